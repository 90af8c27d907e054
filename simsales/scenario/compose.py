"""Layering several scenario files into one scenario, e.g. a shock file and a risk-plan file.

Each file is loaded and validated on its own (typically it `extends` the 2023 baseline).  The
first file is the starting point; every later file contributes what it changes relative to the
reference scenario (the shipped baseline): its events (`shocks`, `strategies`, `risk_rules`)
are appended, and any other value it sets differently from the reference is applied.  Two files
setting the same value differently is an error, so the order of factors never silently decides
an outcome.  The `run` section (horizon, size, seed) is the first file's: an experiment sets one
horizon for all its arms anyway.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from simsales.scenario.errors import ScenarioError
from simsales.scenario.events import EVENT_SECTIONS
from simsales.scenario.loader import build_scenario, load_scenario
from simsales.scenario.schema import Scenario


def _leaves(raw: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Dotted path -> value for every leaf of nested dicts (lists are leaves)."""
    out: dict[str, Any] = {}
    for key, value in raw.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            out.update(_leaves(value, path))
        else:
            out[path] = value
    return out


def compose_files(files: Sequence[str | Path], reference: Scenario | None = None) -> Scenario:
    """One scenario from several files layered in order (see the module docstring)."""
    if not files:
        raise ScenarioError("no scenario files to layer", key="scenario")
    scenarios = [load_scenario(f) for f in files]
    if len(scenarios) == 1:
        return scenarios[0]
    ref = _leaves(_without_events((reference or load_scenario()).to_dict()))
    raw = scenarios[0].to_dict()
    changed: dict[str, tuple[Any, str]] = {
        path: (value, str(files[0])) for path, value in _leaves(_without_events(raw)).items() if ref.get(path) != value
    }
    names = [raw.get("name", "")]
    for file, scenario in zip(files[1:], scenarios[1:], strict=True):
        layer = scenario.to_dict()
        names.append(layer.get("name", ""))
        for section in EVENT_SECTIONS:
            if layer.get(section):
                raw[section] = [*(raw.get(section) or []), *layer[section]]
        for path, value in _leaves(_without_events(layer)).items():
            if path in ("name", "description") or path.startswith("run.") or ref.get(path) == value:
                continue
            if path in changed and changed[path][0] != value:
                raise ScenarioError(
                    f"{file} sets {path} = {value!r} but {changed[path][1]} sets {changed[path][0]!r}; layered files must not disagree",
                    file=str(file),
                    key=path,
                )
            changed[path] = (value, str(file))
            _set(raw, path, value)
    raw["name"] = "+".join(n for n in names if n)
    return build_scenario(raw, " + ".join(str(f) for f in files))


def _without_events(raw: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in raw.items() if k not in EVENT_SECTIONS}


def _set(raw: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    node = raw
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value
