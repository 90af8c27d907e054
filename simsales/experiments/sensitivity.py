"""Global sensitivity analysis through SALib (optional extra `sensitivity`): Sobol and Morris.

A `SensitivityDesign` follows SALib's problem -> sample -> evaluate -> analyze cycle: its
sample points become experiment arms ('sa0000', ...), every point runs the same replicate seeds
(common random numbers, so seed noise does not masquerade as a parameter effect), the model
output of a point is its mean over replicates, and `analyze` returns the indices as a DataFrame.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from simsales.experiments.spec import Arm, ScenarioRef
from simsales.scenario import ScenarioError

METHODS = ("sobol", "morris")


def _salib() -> Any:
    try:
        import SALib  # noqa: F401
    except ImportError as exc:  # pragma: no cover - optional extra
        raise ImportError("sensitivity analysis needs the 'sensitivity' extra: pip install 'simsales[sensitivity]'") from exc
    from SALib.analyze import morris as morris_analyze
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import morris as morris_sample
    from SALib.sample import sobol as sobol_sample

    return sobol_sample, sobol_analyze, morris_sample, morris_analyze


@dataclass(frozen=True)
class SensitivityDesign:
    """Sobol (Saltelli sampling, N base samples) or Morris (N trajectories) over dotted-parameter ranges."""

    method: Literal["sobol", "morris"]
    parameters: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    n: int = 8
    seed: int = 0
    second_order: bool = False
    num_levels: int = 4
    num_resamples: int = 200

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ScenarioError(f"unknown method {self.method!r}; allowed: {', '.join(METHODS)}", key="sensitivity.method")
        if len(self.parameters) < 2:
            raise ScenarioError("needs at least two parameters", key="sensitivity.parameters")
        for key, bounds in self.parameters.items():
            if len(bounds) != 2 or not float(bounds[0]) < float(bounds[1]):
                raise ScenarioError(f"range {list(bounds)} must be [low, high] with low < high", key=f"sensitivity.parameters.{key}")
        if int(self.n) < 1:
            raise ScenarioError("n must be >= 1", key="sensitivity.n")

    @property
    def names(self) -> list[str]:
        """Parameter paths in order."""
        return list(self.parameters)

    def problem(self) -> dict[str, Any]:
        """SALib's problem dict."""
        return {
            "num_vars": len(self.parameters),
            "names": self.names,
            "bounds": [[float(lo), float(hi)] for lo, hi in self.parameters.values()],
        }

    @property
    def n_points(self) -> int:
        """Number of sample points (arms): N(2D+2) or N(D+2) for Sobol, N(D+1) for Morris."""
        d = len(self.parameters)
        if self.method == "sobol":
            return int(self.n) * (2 * d + 2 if self.second_order else d + 2)
        return int(self.n) * (d + 1)

    def sample(self) -> np.ndarray:
        """The sample matrix (points x parameters), deterministic for the design's seed."""
        sobol_sample, _, morris_sample, _ = _salib()
        if self.method == "sobol":
            return sobol_sample.sample(self.problem(), int(self.n), calc_second_order=self.second_order, seed=self.seed)
        return morris_sample.sample(self.problem(), int(self.n), num_levels=self.num_levels, seed=self.seed)

    def arms(self, scenario: ScenarioRef = None) -> list[Arm]:
        """One arm per sample point, named sa0000..., its parameter values as overrides and factor columns."""
        arms = []
        for i, row in enumerate(self.sample()):
            params = {k: float(v) for k, v in zip(self.names, row, strict=True)}
            arms.append(Arm(name=f"sa{i:04d}", scenario=scenario, params=params, factors=dict(params)))
        return arms

    def outputs(self, runs: pd.DataFrame, kpi: str) -> np.ndarray:
        """Model output per sample point: the KPI's mean over the point's finished replicates."""
        ok = runs[runs["status"] == "done"]
        means = ok.groupby("arm")[kpi].mean()
        return np.array([means.get(f"sa{i:04d}", np.nan) for i in range(self.n_points)], dtype=float)

    def analyze(self, runs: pd.DataFrame, kpis: Sequence[str]) -> pd.DataFrame:
        """Indices per KPI and parameter: S1, S1_conf, ST, ST_conf (Sobol) or mu, mu_star, sigma, mu_star_conf (Morris)."""
        _, sobol_analyze, _, morris_analyze = _salib()
        frames = []
        for kpi in kpis:
            y = self.outputs(runs, kpi)
            if not np.all(np.isfinite(y)) or np.ptp(y) == 0:
                continue  # a missing point or a constant output: no indices for this KPI
            if self.method == "sobol":
                si = sobol_analyze.analyze(
                    self.problem(), y, calc_second_order=self.second_order, num_resamples=self.num_resamples, seed=self.seed
                )
                cols = ("S1", "S1_conf", "ST", "ST_conf")
            else:
                si = morris_analyze.analyze(
                    self.problem(), self.sample(), y, num_levels=self.num_levels, num_resamples=self.num_resamples, seed=self.seed
                )
                cols = ("mu", "mu_star", "sigma", "mu_star_conf")
            frame = pd.DataFrame({c: np.asarray(si[c], dtype=float) for c in cols})
            frame.insert(0, "parameter", self.names)
            frame.insert(0, "kpi", kpi)
            frames.append(frame)
        if not frames:
            return pd.DataFrame(columns=["kpi", "parameter"])
        return pd.concat(frames, ignore_index=True)

    def ranking(self, indices: pd.DataFrame) -> pd.DataFrame:
        """Parameters ordered by their largest importance over KPIs (ST for Sobol, mu_star normalised per KPI for Morris)."""
        if indices.empty:
            return pd.DataFrame(columns=["parameter", "importance"])
        if self.method == "sobol":
            score = indices.assign(score=indices["ST"])
        else:
            top = indices.groupby("kpi")["mu_star"].transform("max").replace(0, np.nan)
            score = indices.assign(score=indices["mu_star"] / top)
        out = score.groupby("parameter")["score"].max().sort_values(ascending=False)
        return out.rename("importance").reset_index()
