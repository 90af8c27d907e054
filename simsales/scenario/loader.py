"""Read scenario TOML files (with `extends` and section files) into a validated `Scenario`.

A scenario file is data only: TOML has no code, and section references are file paths
resolved relative to the file that names them.  Every error names the file, the key path
and what is allowed.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from simsales._paths import SHIPPED_PREFIX, default_scenario_path, resolve_reference, shipped_file, shipped_names
from simsales.scenario.build import apply_overrides, build, convert_value, sections, set_dotted
from simsales.scenario.errors import ScenarioError, did_you_mean
from simsales.scenario.schema import Scenario

__all__ = ["apply_overrides", "build_scenario", "convert_value", "find_scenario", "load_scenario", "read_scenario_dict", "read_toml"]

#: Sections that may be given as a path to another TOML file holding that section.
SECTION_FIELDS = sections(Scenario)
#: List sections whose entries may name a spec file (`spec = "file.toml"`) holding their keys.
SPEC_FILE_SECTIONS = ("shocks", "strategies")


def load_scenario(
    path: str | Path | None = None, overrides: dict[str, Any] | None = None, labels: Mapping[str, str] | None = None
) -> Scenario:
    """Load and validate a scenario file (default: the shipped 2023 baseline).

    `path` may also be `shipped:NAME` or the bare name of a shipped file.  `labels` names where
    each override came from (e.g. {"run.days": "--days"}), so an error an override causes names
    the flag as well as the file.
    """
    file = find_scenario(path) if path is not None else default_scenario_path()
    raw = read_scenario_dict(file)
    scenario = build_scenario(raw, str(file))
    return apply_overrides(scenario, overrides or {}, source=f"overrides of {file}", labels=labels)


def find_scenario(ref: str | Path) -> Path:
    """A scenario file by path, as `shipped:NAME`, or by the bare name of a shipped file (e.g.
    'strategy_ai_customer_service'), so the same names work in the CLI, the Python API and any folder."""
    text, path = str(ref), Path(ref)
    if not text.startswith(SHIPPED_PREFIX) and path.exists():
        return path
    found = shipped_file(text) if text.startswith(SHIPPED_PREFIX) or path.parent == Path(".") else None
    if found is not None:
        return found
    raise ScenarioError(f"file not found{_shipped_hint(text)}", file=text)


def _shipped_hint(ref: str) -> str:
    """' (did you mean 'shipped:NAME'?)' for the shipped file nearest a missing reference."""
    stem = Path(ref.removeprefix(SHIPPED_PREFIX)).stem
    return did_you_mean(SHIPPED_PREFIX + stem, [SHIPPED_PREFIX + n for n in shipped_names()])


def read_scenario_dict(
    file: Path, _chain: tuple[Path, ...] = (), _referrer: tuple[Path, str, str] | None = None, *, apply_fitted: bool = True
) -> dict[str, Any]:
    """The fully resolved raw dict of a file: parents merged, section files and fitted values applied.

    `apply_fitted=False` leaves out this file's own `fitted` values (its parents' still apply):
    the hand-set values a calibration starts from.
    """
    file = Path(file).resolve()
    if file in _chain:
        cycle = " -> ".join(p.name for p in (*_chain, file))
        raise ScenarioError(f"circular 'extends': {cycle}", file=str(file), key="extends")
    data = read_toml(file) if _referrer is None else _read_ref(file, *_referrer)
    parent = data.pop("extends", None)
    if parent is not None:
        if not isinstance(parent, str):
            raise ScenarioError("must be a file path string", file=str(file), key="extends")
        base = read_scenario_dict(_resolve(file, parent, "extends"), (*_chain, file), (file, "extends", parent))
    else:
        base = {}
    for key in list(data):
        if key in SECTION_FIELDS and isinstance(data[key], str) and key not in ("name", "description"):
            data[key] = _section_from_file(_resolve(file, data[key], key), key, file, data[key])
    for section in SPEC_FILE_SECTIONS:
        if isinstance(data.get(section), list):
            data[section] = [_event_from_spec(file, item, f"{section}[{i}]") for i, item in enumerate(data[section])]
    fitted = data.pop("fitted", None)
    merged = _deep_merge(base, data)
    if fitted is not None and apply_fitted:
        if not isinstance(fitted, str):
            raise ScenarioError("must be a file path string", file=str(file), key="fitted")
        fitted_file = _resolve(file, fitted, "fitted")
        params = _read_ref(fitted_file, file, "fitted", fitted).get("parameters", {})
        for dotted, value in params.items():
            set_dotted(merged, dotted, value, str(fitted_file))
    return merged


def build_scenario(raw: dict[str, Any], file: str) -> Scenario:
    """Convert a resolved raw dict into a validated `Scenario` (see `simsales.scenario.build`)."""
    return build(Scenario, raw, file)


# --- internals -------------------------------------------------------------------------------


def read_toml(file: str | Path) -> dict[str, Any]:
    """A TOML file as a dict; a missing or malformed file is a ScenarioError naming it."""
    try:
        with open(file, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ScenarioError("file not found", file=str(file)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"not valid TOML: {exc}", file=str(file)) from None
    except RecursionError:
        raise ScenarioError("arrays or tables are nested too deeply to read", file=str(file)) from None
    except IsADirectoryError:
        raise ScenarioError("is a folder, not a TOML file", file=str(file)) from None
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"not a text (UTF-8) TOML file: {exc.reason}", file=str(file)) from None
    except OSError as exc:  # no permission, ...
        raise ScenarioError(f"cannot be read as a TOML file: {exc.strerror or exc}", file=str(file)) from None


def _resolve(file: Path, ref: str, key: str) -> Path:
    target = resolve_reference(file.parent, ref)
    if target.is_dir():
        raise ScenarioError(f"refers to '{ref}', which is a folder; name a TOML file", file=str(file), key=key)
    if not target.is_file():
        raise ScenarioError(f"refers to '{ref}', which does not exist{_shipped_hint(ref)}", file=str(file), key=key)
    return target


def _read_ref(target: Path, referrer: Path, key: str, ref: str) -> dict[str, Any]:
    """Read a file another file names; a file that cannot be read is blamed on the reference too."""
    try:
        return read_toml(target)
    except ScenarioError as exc:
        raise ScenarioError(f"refers to '{ref}' ({target}), which cannot be read: {exc.detail}", file=str(referrer), key=key) from None


def _section_from_file(file: Path, section: str, referrer: Path | None = None, ref: str | None = None) -> Any:
    data = read_toml(file) if referrer is None else _read_ref(file, referrer, section, ref or str(file))
    if section not in data:
        raise ScenarioError(f"has no [{section}] section", file=str(file), key=section)
    return data[section]


def _event_from_spec(file: Path, item: Any, key: str) -> Any:
    """An event table with `spec = "file.toml"`: the file's top-level keys, overridden by the table's own."""
    if not isinstance(item, dict) or "spec" not in item:
        return item
    ref = item["spec"]
    if not isinstance(ref, str):
        raise ScenarioError("must be a file path string", file=str(file), key=f"{key}.spec")
    base = _read_ref(_resolve(file, ref, f"{key}.spec"), file, f"{key}.spec", ref)
    if not isinstance(base, dict):
        raise ScenarioError(f"refers to '{ref}', which is not a table of event keys", file=str(file), key=f"{key}.spec")
    return {**base, **{k: v for k, v in item.items() if k != "spec"}}


def _deep_merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


