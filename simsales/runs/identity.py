"""What identifies a run: a hash of its resolved scenario and a hash of the simulation code.

One JSON hash for everything that is hashed (scenarios, parameter overrides, experiment specs),
and one code hash taken from the simulation's own modules: the `simsales` modules that
`simsales.run` imports, directly or through other simsales modules (found by reading their
import statements, so a new model module is covered without editing a list).  Calibration and
experiment code is not part of it: changing a report never invalidates stored runs.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.util
import json
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

#: The module whose import closure is the simulation code (the function every run calls).
SIMULATION_ENTRY = "simsales.run"


def json_hash(value: Any) -> str:
    """A short SHA-256 (16 hex digits) of a JSON-serialisable value, keys sorted (str() for other objects)."""
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def scenario_hash(scenario: Any) -> str:
    """The hash of a complete scenario (every value, run size included)."""
    return json_hash(scenario.to_dict())


def frame_hash(frame: pd.DataFrame) -> str:
    """A short SHA-256 of a DataFrame's values and index (e.g. a parameter ensemble)."""
    return hashlib.sha256(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes()).hexdigest()[:16]


def simulation_modules(entry: str = SIMULATION_ENTRY) -> dict[str, Path]:
    """Source files of every simsales module `entry` imports, transitively (packages' __init__ included)."""
    found: dict[str, Path] = {}
    todo = [entry]
    while todo:
        name = todo.pop()
        if name in found or not (name == "simsales" or name.startswith("simsales.")):
            continue
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        if spec is None or not spec.origin or not spec.origin.endswith(".py"):
            continue  # an attribute imported from a module, not a module
        path = Path(spec.origin)
        found[name] = path
        package = name if spec.submodule_search_locations else name.rpartition(".")[0]
        parts = name.split(".")
        todo += [".".join(parts[:i]) for i in range(1, len(parts))]  # importing a.b.c runs a and a.b
        for node in ast.walk(ast.parse(path.read_bytes(), filename=str(path))):
            if isinstance(node, ast.Import):
                todo += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = importlib.util.resolve_name("." * node.level + (node.module or ""), package) if node.level else node.module or ""
                todo += [base, *(f"{base}.{alias.name}" for alias in node.names)]
    return found


@functools.cache
def code_hash(entry: str = SIMULATION_ENTRY) -> str:
    """Hash of the simulation code this process would run (computed once per process).

    A worker computes it too and stores it with each run, so a worker that runs other code than
    the process that planned the runs is visible in the records.
    """
    files = simulation_modules(entry)
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode())
        digest.update(files[name].read_bytes())
    return digest.hexdigest()[:16]


def versions() -> dict[str, str]:
    """Versions of simsales, Python and the libraries that decide the numbers."""
    out = {"python": platform.python_version()}
    for name in ("simsales", "numpy", "pandas", "scipy", "mesa"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "unknown"
    return out
