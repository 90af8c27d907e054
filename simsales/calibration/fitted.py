"""Reading and writing fitted-parameter files: [parameters] of dotted keys plus [calibration] metadata.

The scenario loader applies the [parameters] table of the file a scenario names with
`fitted = "..."`; the [calibration] table records how the values were obtained.
"""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path
from typing import Any

import simsales
from simsales._paths import default_file, default_scenario_path
from simsales.runs.store import atomic_write_text
from simsales.scenario.loader import build_scenario, find_scenario, read_scenario_dict
from simsales.scenario.schema import Scenario
from simsales.scenario.toml_out import dumps


def code_version() -> dict[str, str]:
    """simsales version and, in a git checkout, the commit (with '+dirty' for uncommitted changes)."""
    info = {"simsales": simsales.__version__, "git_commit": ""}
    root = Path(simsales.__file__).resolve().parent.parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10)
        if commit.returncode == 0:
            dirty = subprocess.run(["git", "status", "--porcelain", "--", "simsales", "agents", "experiments"],
                                   cwd=root, capture_output=True, text=True, timeout=10)
            info["git_commit"] = commit.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        pass
    return info


def write_fitted(path: str | Path, parameters: dict[str, float], metadata: dict[str, Any], header: str = "") -> Path:
    """Write a fitted file atomically: comment header, [parameters] then [calibration] metadata."""
    lines = [f"# {line}".rstrip() for line in header.splitlines()] if header else []
    text = "\n".join([*lines, "", dumps({"parameters": parameters, "calibration": metadata})])
    tomllib.loads(text)  # never write a file the loader cannot read
    atomic_write_text(path, text)
    return Path(path)


def load_fitted(path: str | Path | None = None) -> dict[str, Any]:
    """A fitted file as {'parameters': {...}, 'calibration': {...}} (default: the shipped 2023 fit)."""
    file = Path(path) if path is not None else default_file("calibration/fitted_2023.toml")
    with open(file, "rb") as fh:
        data = tomllib.load(fh)
    return {"parameters": data.get("parameters", {}), "calibration": data.get("calibration", {})}


def load_unfitted_scenario(path: str | Path | None = None) -> Scenario:
    """A scenario file (a path or a shipped name) read *without* its `fitted` parameters: the hand-set
    values a calibration starts from.  Parents named by `extends` are read as usual (with their own
    fitted values, if any).
    """
    file = find_scenario(path).resolve() if path is not None else default_scenario_path()
    return build_scenario(read_scenario_dict(file, apply_fitted=False), str(file))
