"""The figures a calibration fits: targets (value, tolerance, weight, KPI) and documented conflicts.

Read from `calibration/targets_2023.toml`: one `[targets."id"]` table per statistic and
`[[conflicts]]` entries naming target pairs the source makes hard or impossible to meet together.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from simsales._paths import default_file
from simsales.kpis import REGISTRY
from simsales.scenario import ScenarioError
from simsales.scenario.loader import read_toml


@dataclass(frozen=True)
class Conflict:
    """Two targets the source makes hard or impossible to meet together (b empty: one target's figure is disputed)."""

    a: str
    b: str
    kind: str
    reason: str


@dataclass(frozen=True)
class TargetSet:
    """Targets indexed by id with the KPI measuring each, plus documented conflicts."""

    frame: pd.DataFrame
    conflicts: tuple[Conflict, ...] = ()
    source: str = ""

    @property
    def ids(self) -> list[str]:
        """Target ids in file order."""
        return list(self.frame.index)

    @property
    def kpis(self) -> list[str]:
        """KPI id measuring each target (same order as ids)."""
        return list(self.frame["kpi"])

    @property
    def values(self) -> np.ndarray:
        """Target values."""
        return self.frame["value"].to_numpy(dtype=float)

    @property
    def scales(self) -> np.ndarray:
        """Tolerance in the target's unit: relative tolerance times |value|."""
        return self.frame["tolerance"].to_numpy(dtype=float) * np.abs(self.values)

    @property
    def weights(self) -> np.ndarray:
        """Weights of the targets in the objective."""
        return self.frame["weight"].to_numpy(dtype=float)

    def __len__(self) -> int:
        return len(self.frame)

    def subset(self, ids: list[str]) -> TargetSet:
        """The targets named in `ids`, with the conflicts among them."""
        keep = set(ids)
        conflicts = tuple(c for c in self.conflicts if c.a in keep and (not c.b or c.b in keep))
        return TargetSet(self.frame.loc[list(ids)], conflicts, self.source)

    def split(self, holdout: list[str] | tuple[str, ...]) -> tuple[TargetSet, TargetSet]:
        """(targets fitted, targets held out); unknown holdout ids raise ScenarioError."""
        unknown = [h for h in holdout if h not in self.frame.index]
        if unknown:
            raise ScenarioError(
                f"unknown holdout target '{unknown[0]}'; known: {', '.join(self.ids)}", file=self.source, key="holdout"
            )
        fit = [i for i in self.ids if i not in holdout]
        if not fit:
            raise ScenarioError("every target is held out; nothing left to fit", file=self.source, key="holdout")
        return self.subset(fit), self.subset([i for i in self.ids if i in holdout])

    def describe(self) -> list[list[object]]:
        """Plain description (for fingerprints)."""
        return [[i, k, float(v), float(t), float(w)] for i, k, v, t, w in zip(
            self.ids, self.kpis, self.values, self.frame["tolerance"], self.weights, strict=True)]


def load_target_set(path: str | Path | None = None) -> TargetSet:
    """Read and check a targets file (default: the shipped 2023 targets)."""
    file = Path(path) if path is not None else default_file("calibration/targets_2023.toml")
    data = read_toml(file)
    table = data.get("targets")
    if not isinstance(table, dict) or not table:
        raise ScenarioError("needs a non-empty [targets] table", file=str(file), key="targets")
    rows = []
    for key, entry in table.items():
        where = f"targets.{key}"
        if not isinstance(entry, dict):
            raise ScenarioError("expected a table", file=str(file), key=where)
        kpi = entry.get("kpi", key)
        if kpi not in REGISTRY:
            raise ScenarioError(f"unknown KPI '{kpi}'; known: {', '.join(REGISTRY)}", file=str(file), key=f"{where}.kpi")
        for name, low in (("value", None), ("tolerance", 0.0), ("weight", 0.0)):
            value = entry.get(name, 1.0 if name == "weight" else None)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ScenarioError(f"'{name}' must be a finite number", file=str(file), key=f"{where}.{name}")
            if (low is not None and value < low) or (name == "tolerance" and value == 0):
                raise ScenarioError(f"'{name}' must be positive", file=str(file), key=f"{where}.{name}")
        if entry["value"] == 0:
            raise ScenarioError("'value' must be non-zero (tolerances are relative)", file=str(file), key=f"{where}.value")
        rows.append({"id": key, **entry, "kpi": kpi, "weight": float(entry.get("weight", 1.0))})
    frame = pd.DataFrame(rows).set_index("id")
    for col in ("unit", "section", "metric", "note", "kind", "miss_reason"):
        if col not in frame:
            frame[col] = ""
        frame[col] = frame[col].fillna("")
    conflicts = []
    for i, entry in enumerate(data.get("conflicts", [])):
        where = f"conflicts[{i}]"
        for name in ("a", "b"):
            if (name == "a" or entry.get(name, "")) and entry.get(name) not in frame.index:
                raise ScenarioError(f"'{name}' must name a target in this file", file=str(file), key=f"{where}.{name}")
        conflicts.append(
            Conflict(entry["a"], entry.get("b", ""), str(entry.get("kind", "source")), str(entry.get("reason", "")))
        )
    return TargetSet(frame, tuple(conflicts), str(file))
