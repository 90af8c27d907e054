"""The ensemble: candidates whose fit is statistically indistinguishable from the best one.

All candidates ran on the same seeds (common random numbers), so each candidate's per-seed
objective can be compared with the best candidate's seed by seed.  A candidate is accepted when a
one-sided paired t-test at 5% cannot say it is worse than the best.  Experiments draw parameter
sets from the ensemble to carry parameter uncertainty, not only seed noise.
"""

from __future__ import annotations

from pathlib import Path

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


def ensemble_overrides(ensemble: pd.DataFrame | None = None) -> list[dict[str, float]]:
    """Each ensemble member as scenario overrides {dotted key: value}, best first."""
    frame = load_ensemble() if ensemble is None else ensemble
    keys = parameter_columns(frame)
    return [{k: float(row[k]) for k in keys} for _, row in frame.iterrows()]


def sample_ensemble(n: int, rng: np.random.Generator, ensemble: pd.DataFrame | None = None) -> list[dict[str, float]]:
    """n parameter sets drawn with replacement from the ensemble by weight (for experiments)."""
    frame = load_ensemble() if ensemble is None else ensemble
    members = ensemble_overrides(frame)
    weights = frame["weight"].to_numpy(dtype=float)
    picks = rng.choice(len(members), size=n, p=weights / weights.sum())
    return [members[i] for i in picks]
