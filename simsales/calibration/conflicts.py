"""Targets that cannot be met together: documented ones and ones found in the evaluated candidates.

Three kinds of evidence, reported side by side:
- documented: pairs listed in the targets file (`[[conflicts]]`), e.g. definitional ties;
- never jointly: each target of the pair is within tolerance in some evaluated candidates, but
  never both in the same candidate, and that is unlikely by chance (hypergeometric p < 5% given
  how often each is met);
- local trade-off: on the local linear model at the fit (the sensitivity Jacobian), each target
  alone can be brought within tolerance within +-25% of each range around the fit, but not both
  at once (a small linear programme minimising the larger of the two residuals).
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from scipy.optimize import linprog
from scipy.stats import hypergeom

from simsales.calibration.targets import TargetSet

#: Minimum number of candidates in which each target alone is met before "never jointly" is claimed.
MIN_SUPPORT = 3
#: Half-width (unit coordinates) of the neighbourhood of the fit the local linear model is trusted in.
LOCAL_RADIUS = 0.25
#: Largest chance probability of never meeting both, given how often each is met, that is reported.
ALPHA = 0.05


def never_jointly(z: pd.DataFrame, min_support: int = MIN_SUPPORT, alpha: float = ALPHA) -> pd.DataFrame:
    """Pairs each met in >= min_support candidates but never together, unlikely by chance (z: candidates x targets)."""
    within = (z.abs() <= 1.0) & z.notna()
    counts = within.sum()
    n = len(z)
    rows = []
    cols = [c for c in z.columns if counts[c] >= min_support]
    for a, b in itertools.combinations(cols, 2):
        both = int((within[a] & within[b]).sum())
        if both:
            continue
        p_chance = float(hypergeom.pmf(0, n, int(counts[a]), int(counts[b])))
        if p_chance < alpha:
            rows.append({"a": a, "b": b, "met_a": int(counts[a]), "met_b": int(counts[b]), "met_both": 0,
                         "p_chance": p_chance, "residual_corr": float(z[a].corr(z[b])), "candidates": n})
    columns = ["a", "b", "met_a", "met_b", "met_both", "p_chance", "residual_corr", "candidates"]
    return pd.DataFrame(rows, columns=columns)


def _box(x0: np.ndarray, radius: float = LOCAL_RADIUS) -> list[tuple[float, float]]:
    """Bounds of the neighbourhood of x0 within the unit cube."""
    return [(max(0.0, v - radius), min(1.0, v + radius)) for v in x0]


def _min_max_residual(z0: np.ndarray, jac: np.ndarray, x0: np.ndarray, rows: list[int]) -> float:
    """min over x near x0 of max_i |z0_i + J_i (x - x0)| for i in rows (a linear programme)."""
    d = len(x0)
    c = np.zeros(d + 1)
    c[-1] = 1.0
    a_ub, b_ub = [], []
    for i in rows:
        # z0 + J(x - x0) <= t  and  -(z0 + J(x - x0)) <= t
        a_ub.append(np.append(jac[i], -1.0))
        b_ub.append(-z0[i] + jac[i] @ x0)
        a_ub.append(np.append(-jac[i], -1.0))
        b_ub.append(z0[i] - jac[i] @ x0)
    bounds = [*_box(x0), (0.0, None)]
    res = linprog(c, A_ub=np.array(a_ub), b_ub=np.array(b_ub), bounds=bounds, method="highs")
    return float(res.fun) if res.success else np.inf


def local_tradeoffs(z0: pd.Series, jacobian: pd.DataFrame, x0: np.ndarray) -> pd.DataFrame:
    """Pairs each reachable alone (|z| <= 1) on the local linear model but not jointly."""
    ids = list(z0.index)
    zv = z0.to_numpy(dtype=float)
    jac = jacobian.loc[ids].to_numpy(dtype=float)
    finite = np.isfinite(zv)
    alone = {i: _min_max_residual(zv, jac, x0, [i]) for i in range(len(ids)) if finite[i]}
    rows = []
    for i, j in itertools.combinations([k for k, v in alone.items() if v <= 1.0], 2):
        if abs(zv[i]) <= 1 and abs(zv[j]) <= 1:
            continue
        joint = _min_max_residual(zv, jac, x0, [i, j])
        if joint > 1.0:
            rows.append({"a": ids[i], "b": ids[j], "best_alone_a": alone[i], "best_alone_b": alone[j], "best_joint": joint})
    return pd.DataFrame(rows, columns=["a", "b", "best_alone_a", "best_alone_b", "best_joint"])


def documented(targets: TargetSet) -> pd.DataFrame:
    """The conflicts listed in the targets file."""
    return pd.DataFrame([{"a": c.a, "b": c.b, "kind": c.kind, "reason": c.reason} for c in targets.conflicts],
                        columns=["a", "b", "kind", "reason"])


def reachable_keeping_met(z0: pd.Series, jacobian: pd.DataFrame, x0: np.ndarray, target: str) -> tuple[float, list[str]]:
    """On the local linear model: the smallest |residual| of `target` while every met target stays met.

    Returns (that residual in tolerances, the met targets whose constraint binds at the optimum).
    A value above 1 means the target cannot be met here without losing another; the binding
    targets are the ones it trades off against.
    """
    ids = list(z0.index)
    zv = z0.to_numpy(dtype=float)
    jac = jacobian.loc[ids].to_numpy(dtype=float)
    d = len(x0)
    i = ids.index(target)
    met = [j for j in range(len(ids)) if j != i and np.isfinite(zv[j]) and abs(zv[j]) <= 1.0]
    c = np.zeros(d + 1)
    c[-1] = 1.0
    a_ub = [np.append(jac[i], -1.0), np.append(-jac[i], -1.0)]
    b_ub = [-zv[i] + jac[i] @ x0, zv[i] - jac[i] @ x0]
    for j in met:
        a_ub += [np.append(jac[j], 0.0), np.append(-jac[j], 0.0)]
        b_ub += [1.0 - zv[j] + jac[j] @ x0, 1.0 + zv[j] - jac[j] @ x0]
    res = linprog(c, A_ub=np.array(a_ub), b_ub=np.array(b_ub), bounds=[*_box(x0), (0.0, None)], method="highs")
    if not res.success:
        return float("inf"), []
    x = res.x[:d]
    binding = []
    for j in met:
        zj = zv[j] + jac[j] @ (x - x0)
        if abs(zj) >= 1.0 - 1e-6 and abs(jac[j] @ jac[i]) > 1e-9:
            binding.append(ids[j])
    return float(res.fun), binding
