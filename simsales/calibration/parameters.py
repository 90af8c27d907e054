"""Free parameters of a calibration: dotted scenario keys with bounds, a scale and an optional prior.

Everything not declared here stays at the scenario's value.  The search works in the unit cube;
`ParameterSpace` maps between unit coordinates and parameter values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from simsales._paths import default_file
from simsales.scenario import Scenario, ScenarioError
from simsales.scenario.loader import apply_overrides, read_toml

SCALES = ("linear", "log")
PRIORS = ("uniform", "normal")
PARAMETER_FIELDS = ("low", "high", "scale", "integer", "prior", "moves", "note")


@dataclass(frozen=True)
class Prior:
    """A prior on a parameter value: 'uniform' (flat within bounds) or 'normal' (mean, sd)."""

    dist: Literal["uniform", "normal"] = "uniform"
    mean: float = 0.0
    sd: float = 1.0

    def penalty(self, value: float) -> float:
        """Minus twice the log prior density up to a constant (0 for a flat prior)."""
        return 0.0 if self.dist == "uniform" else ((value - self.mean) / self.sd) ** 2


@dataclass(frozen=True)
class Parameter:
    """One free parameter: a dotted scenario key searched between `low` and `high`."""

    key: str
    low: float
    high: float
    scale: Literal["linear", "log"] = "linear"
    integer: bool = False
    prior: Prior = field(default_factory=Prior)
    moves: tuple[str, ...] = ()
    note: str = ""

    def from_unit(self, u: np.ndarray | float) -> np.ndarray:
        """Parameter value(s) of unit coordinate(s) in [0, 1]."""
        u = np.clip(np.asarray(u, dtype=float), 0.0, 1.0)
        if self.scale == "log":
            value = np.exp(np.log(self.low) + u * (np.log(self.high) - np.log(self.low)))
        else:
            value = self.low + u * (self.high - self.low)
        return np.rint(value) if self.integer else value

    def to_unit(self, value: np.ndarray | float) -> np.ndarray:
        """Unit coordinate(s) of parameter value(s), clipped to the bounds."""
        v = np.clip(np.asarray(value, dtype=float), self.low, self.high)
        if self.scale == "log":
            return (np.log(v) - np.log(self.low)) / (np.log(self.high) - np.log(self.low))
        return (v - self.low) / (self.high - self.low)


@dataclass(frozen=True)
class ParameterSpace:
    """The ordered set of free parameters and the file they came from."""

    parameters: tuple[Parameter, ...]
    source: str = ""

    @property
    def keys(self) -> list[str]:
        """Dotted keys in order."""
        return [p.key for p in self.parameters]

    @property
    def dim(self) -> int:
        """Number of free parameters."""
        return len(self.parameters)

    def from_unit(self, x: np.ndarray) -> np.ndarray:
        """Values (n x d or d) of unit points."""
        x = np.asarray(x, dtype=float)
        cols = [p.from_unit(x[..., i]) for i, p in enumerate(self.parameters)]
        return np.stack(cols, axis=-1)

    def to_unit(self, values: np.ndarray) -> np.ndarray:
        """Unit points of values (n x d or d)."""
        values = np.asarray(values, dtype=float)
        cols = [p.to_unit(values[..., i]) for i, p in enumerate(self.parameters)]
        return np.stack(cols, axis=-1)

    def overrides(self, x: np.ndarray) -> dict[str, float]:
        """Scenario overrides {dotted key: value} of one unit point."""
        values = self.from_unit(np.asarray(x, dtype=float))
        return {p.key: (int(v) if p.integer else float(v)) for p, v in zip(self.parameters, values, strict=True)}

    def prior_penalty(self, x: np.ndarray) -> float:
        """Sum of the parameters' prior penalties at a unit point."""
        values = self.from_unit(np.asarray(x, dtype=float))
        return float(sum(p.prior.penalty(float(v)) for p, v in zip(self.parameters, values, strict=True)))

    def current_unit(self, scenario: Scenario) -> np.ndarray:
        """Unit point of the scenario's own values (clipped into the bounds)."""
        return self.to_unit(np.array([scenario_value(scenario, k) for k in self.keys]))

    def describe(self) -> list[dict[str, Any]]:
        """Plain description (for fingerprints and reports)."""
        return [
            {"key": p.key, "low": p.low, "high": p.high, "scale": p.scale, "integer": p.integer,
             "prior": [p.prior.dist, p.prior.mean, p.prior.sd]}
            for p in self.parameters
        ]

    def validate(self, scenario: Scenario) -> None:
        """Raise ScenarioError unless every key exists and both bounds are accepted by the scenario."""
        for p in self.parameters:
            scenario_value(scenario, p.key, file=self.source)
        for bound in ("low", "high"):
            values = {p.key: (int(getattr(p, bound)) if p.integer else getattr(p, bound)) for p in self.parameters}
            apply_overrides(scenario, values, source=f"{self.source} ({bound} bounds)")


def scenario_value(scenario: Scenario, dotted: str, file: str = "") -> float:
    """The numeric value of a dotted key in a scenario; list items are picked by id or name."""
    node: Any = scenario.to_dict()
    for part in dotted.split("."):
        if isinstance(node, list):
            match = [item for item in node if isinstance(item, dict) and part in (item.get("id"), item.get("name"))]
            if not match:
                names = [str(i.get("id", i.get("name"))) for i in node if isinstance(i, dict)]
                raise ScenarioError(f"no entry named '{part}'; entries: {', '.join(names)}", file=file, key=dotted)
            node = match[0]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            allowed = ", ".join(node) if isinstance(node, dict) else "(none)"
            raise ScenarioError(f"unknown key '{part}'; allowed: {allowed}", file=file, key=dotted)
    if isinstance(node, bool) or not isinstance(node, (int, float)):
        raise ScenarioError(f"not a numeric parameter (value {node!r})", file=file, key=dotted)
    return float(node)


def load_parameters(path: str | Path | None = None) -> ParameterSpace:
    """Read free parameters from a TOML file's [parameters."dotted.key"] tables (default: the 2023 set)."""
    file = Path(path) if path is not None else default_file("calibration/parameters_2023.toml")
    data = read_toml(file)
    table = data.get("parameters")
    if not isinstance(table, dict) or not table:
        raise ScenarioError("needs a non-empty [parameters] table", file=str(file), key="parameters")
    return ParameterSpace(tuple(_parameter(key, spec, str(file)) for key, spec in table.items()), str(file))


def _parameter(key: str, spec: Any, file: str) -> Parameter:
    where = f"parameters.{key}"
    if not isinstance(spec, dict):
        raise ScenarioError("expected a table with low and high", file=file, key=where)
    unknown = [k for k in spec if k not in PARAMETER_FIELDS]
    if unknown:
        raise ScenarioError(f"unknown field '{unknown[0]}'; allowed: {', '.join(PARAMETER_FIELDS)}", file=file, key=where)
    for bound in ("low", "high"):
        value = spec.get(bound)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ScenarioError(f"'{bound}' must be a finite number", file=file, key=f"{where}.{bound}")
    low, high = float(spec["low"]), float(spec["high"])
    if not low < high:
        raise ScenarioError(f"low ({low}) must be below high ({high})", file=file, key=where)
    scale = spec.get("scale", "linear")
    if scale not in SCALES:
        raise ScenarioError(f"scale '{scale}' not allowed; allowed: {', '.join(SCALES)}", file=file, key=f"{where}.scale")
    if scale == "log" and low <= 0:
        raise ScenarioError("a log-scale parameter needs low > 0", file=file, key=f"{where}.low")
    prior = Prior()
    if "prior" in spec:
        raw = spec["prior"]
        if not isinstance(raw, dict) or raw.get("dist", "uniform") not in PRIORS:
            raise ScenarioError(f"prior must be a table with dist in {', '.join(PRIORS)}", file=file, key=f"{where}.prior")
        prior = Prior(raw.get("dist", "uniform"), float(raw.get("mean", 0.0)), float(raw.get("sd", 1.0)))
        if prior.dist == "normal" and prior.sd <= 0:
            raise ScenarioError("a normal prior needs sd > 0", file=file, key=f"{where}.prior.sd")
    moves = spec.get("moves", [])
    if not isinstance(moves, list) or not all(isinstance(m, str) for m in moves):
        raise ScenarioError("moves must be a list of KPI ids", file=file, key=f"{where}.moves")
    return Parameter(
        key=key, low=low, high=high, scale=scale, integer=bool(spec.get("integer", False)), prior=prior,
        moves=tuple(moves), note=str(spec.get("note", "")),
    )
