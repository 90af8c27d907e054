"""Polish: one step on the local linear model that brings missed targets within tolerance.

The search minimises a smooth loss (Huber of tolerance-scaled residuals), which is indifferent
to whether a residual sits at 0.9 or 1.1 tolerances; the fit is judged by how many targets lie
within tolerance.  After the search, the finite differences at the fit give a local linear model
z(x) = z0 + J (x - x0).  `propose` takes the missed targets in order of how near they are and adds
each one the linear model can bring within tolerance (with a margin against noise) while every
met target stays within max(its residual, 1 - margin); the step is the smallest (L1) one that
does so, inside the neighbourhood the report's local trade-offs use.  The proposal is a candidate
like any other: the calibration runs it on the search and selection seeds and keeps it only if it
meets more targets there without raising the objective beyond its seed noise (`accept`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import linprog

from simsales.calibration.conflicts import LOCAL_RADIUS

#: Tolerances kept in hand: a target the step brings in must reach |z| <= 1 - this on the linear model.
POLISH_MARGIN = 0.2


def propose(z0: pd.Series, jacobian: pd.DataFrame, x0: np.ndarray, margin: float = POLISH_MARGIN,
            radius: float = LOCAL_RADIUS) -> tuple[np.ndarray, list[str]] | None:
    """The smallest step from `x0` (unit cube) bringing the most missed targets within tolerance.

    Returns (the new unit point, the targets it brings in), or None when the linear model can
    bring none in without pushing a met target out.
    """
    ids = list(z0.index)
    z = z0.to_numpy(dtype=float)
    jac = jacobian.loc[ids].to_numpy(dtype=float)
    finite = np.isfinite(z)
    met = [j for j in range(len(ids)) if finite[j] and abs(z[j]) <= 1.0]
    missed = sorted((i for i in range(len(ids)) if finite[i] and abs(z[i]) > 1.0), key=lambda i: abs(z[i]))
    limits = {j: max(abs(z[j]), 1.0 - margin) for j in met}
    brought: list[int] = []
    best: np.ndarray | None = None
    for i in missed:
        step = _smallest_step(z, jac, x0, {**limits, **dict.fromkeys([*brought, i], 1.0 - margin)}, radius)
        if step is not None:
            brought.append(i)
            best = step
    if best is None:
        return None
    return best, [ids[i] for i in brought]


def _smallest_step(z: np.ndarray, jac: np.ndarray, x0: np.ndarray, limits: dict[int, float], radius: float) -> np.ndarray | None:
    """min sum |x - x0| subject to |z_i + J_i (x - x0)| <= limit_i, x within `radius` of x0 and in [0, 1] (a linear programme)."""
    d = len(x0)
    eye = np.eye(d)
    rows = [np.c_[eye, -eye], np.c_[-eye, -eye]]  # x - x0 <= u and x0 - x <= u
    rhs = [x0, -x0]
    for i, limit in limits.items():
        rows.append(np.r_[jac[i], np.zeros(d)][None, :])
        rhs.append(np.array([limit - z[i] + jac[i] @ x0]))
        rows.append(np.r_[-jac[i], np.zeros(d)][None, :])
        rhs.append(np.array([limit + z[i] - jac[i] @ x0]))
    bounds = [(max(0.0, v - radius), min(1.0, v + radius)) for v in x0] + [(0.0, None)] * d
    res = linprog(np.r_[np.zeros(d), np.ones(d)], A_ub=np.vstack(rows), b_ub=np.concatenate(rhs), bounds=bounds, method="highs")
    return np.asarray(res.x[:d]) if res.success else None


def accept(within_new: int, within_old: int, objective_new: float, objective_old: float, objective_se: float) -> bool:
    """Keep the polished point if it meets more targets and its objective is not worse beyond seed noise."""
    return within_new > within_old and objective_new <= objective_old + 2.0 * objective_se
