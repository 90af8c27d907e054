"""The ensemble: candidates whose fit is statistically indistinguishable from the best one.

All candidates ran on the same seeds (common random numbers), so each candidate's per-seed
objective can be compared with the best candidate's seed by seed.  A candidate is accepted when a
one-sided paired t-test at 5% cannot say it is worse than the best.  Experiments draw parameter
sets from the ensemble to carry parameter uncertainty, not only seed noise.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from simsales._paths import default_file

#: One-sided significance level of the paired test against the best candidate.
ALPHA = 0.05


def accept(candidates: pd.DataFrame, alpha: float = ALPHA, best: str | None = None) -> pd.Series:
    """Boolean per candidate: not significantly worse than the best (paired one-sided t-test over seeds)."""
    best = candidates["objective"].idxmin() if best is None else best
    ref = np.array(candidates.at[best, "seed_objectives"], dtype=float)
    n = len(ref)
    accepted = {}
    for name, row in candidates.iterrows():
        diff = np.array(row["seed_objectives"], dtype=float) - ref
        if name == best:
            accepted[name] = True
            continue
        mean = diff.mean()
        if n < 2:
            accepted[name] = bool(mean <= 0)
            continue
        sd = diff.std(ddof=1)
        if sd == 0:
            accepted[name] = bool(mean <= 0)
            continue
        t = mean / (sd / np.sqrt(n))
        accepted[name] = bool(t < stats.t.ppf(1 - alpha, n - 1))
    return pd.Series(accepted, name="accepted")


def ensemble_frame(candidates: pd.DataFrame, keys: list[str], alpha: float = ALPHA, best: str | None = None) -> pd.DataFrame:
    """Accepted candidates with their parameter values, objective and an equal weight, the fitted one first."""
    ok = accept(candidates, alpha, best)
    frame = candidates.loc[ok[ok].index, ["objective", *keys]].sort_values("objective")
    if best is not None:
        frame = pd.concat([frame.loc[[best]], frame.drop(index=best)])
    frame.insert(0, "candidate", frame.index)
    frame["weight"] = 1.0 / len(frame)
    return frame.reset_index(drop=True)


def load_ensemble(path: str | Path | None = None) -> pd.DataFrame:
    """The shipped ensemble of accepted parameter sets (one row each; columns are dotted keys)."""
    file = Path(path) if path is not None else default_file("calibration/ensemble_2023.parquet")
    return pd.read_parquet(file)


def parameter_columns(ensemble: pd.DataFrame) -> list[str]:
    """The parameter columns of an ensemble: those named by a dotted scenario path (e.g. 'journey.outside_utility').

    The one rule for every reader of an ensemble (experiments too); other columns (candidate,
    objective, weight, anything a user adds) are not parameters.
    """
    return [c for c in ensemble.columns if isinstance(c, str) and "." in c]


def member_params(ensemble: pd.DataFrame, position: int) -> dict[str, Any]:
    """The dotted overrides of one ensemble row, as plain Python numbers (an integer parameter stays an int)."""
    row = ensemble.iloc[position]
    return {col: (row[col].item() if hasattr(row[col], "item") else row[col]) for col in parameter_columns(ensemble)}


def pick_members(ensemble: pd.DataFrame, rng: np.random.Generator, size: int | None = None) -> np.ndarray | int:
    """Row positions drawn with replacement: by the 'weight' column if there is one, else uniformly.

    The one draw rule for every user of an ensemble: `sample_ensemble` here and each experiment
    replicate's member (`simsales.experiments.ensemble.draw_member`, one draw from its own stream).
    """
    if "weight" in ensemble.columns:
        w = ensemble["weight"].to_numpy(dtype=float)
        return rng.choice(len(ensemble), size=size, p=w / w.sum())
    return rng.integers(len(ensemble), size=size)


def ensemble_overrides(ensemble: pd.DataFrame | None = None) -> list[dict[str, Any]]:
    """Each ensemble member as scenario overrides {dotted key: value}, best first."""
    frame = load_ensemble() if ensemble is None else ensemble
    return [member_params(frame, i) for i in range(len(frame))]


def sample_ensemble(n: int, rng: np.random.Generator, ensemble: pd.DataFrame | None = None) -> list[dict[str, Any]]:
    """n parameter sets drawn with replacement from the ensemble (`pick_members`), for experiments."""
    frame = load_ensemble() if ensemble is None else ensemble
    return [member_params(frame, int(i)) for i in pick_members(frame, rng, n)]
