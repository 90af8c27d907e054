"""Identification: how strongly the targets pin down each fitted parameter.

Central finite differences at the fit on common seeds give the Jacobian of the standardised
residuals with respect to each parameter's unit coordinate.  A difference is kept only where it
exceeds twice its noise (the seed-to-seed spread of the KPI at the fit, as if the two sides were
independent runs); the rest is set to zero, so seed noise in a noisy target (growth rates, the
share of dealers below 15%) is not mistaken for sensitivity.  From the kept Jacobian: each
parameter's most moved targets, an elasticity, and a Gauss-Newton precision - the change of the
parameter (others re-fitted) that moves the targets by one tolerance in the weighted
least-squares sense.  A precision wider than half the search range marks a parameter the
targets barely identify.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from simsales.calibration.engine import Runner, SearchResult

#: Finite-difference step in unit coordinates (a tenth of each parameter's range).
STEP = 0.1


@dataclass
class Sensitivity:
    """Jacobian (targets x parameters, residual per unit range) and a per-parameter summary."""

    jacobian: pd.DataFrame
    kpi_jacobian: pd.DataFrame
    summary: pd.DataFrame
    raw_jacobian: pd.DataFrame | None = None


def finite_differences(result: SearchResult, runner: Runner, seeds: tuple[int, ...], noise_sd: np.ndarray | None = None,
                       step: float = STEP) -> Sensitivity:
    """Central differences of every target's residual at the best candidate, on `seeds`.

    `noise_sd`: seed-to-seed standard deviation of each target's KPI at the fit (KPI units);
    differences smaller than twice their implied noise are set to zero.
    """
    setup = result.setup
    space, obj = setup.space, setup.objective
    best = result.best
    x0 = result.x(best)
    candidates = []
    steps = []
    for k in range(space.dim):
        up, down = x0.copy(), x0.copy()
        up[k] = min(x0[k] + step, 1.0)
        down[k] = max(x0[k] - step, 0.0)
        steps.append(up[k] - down[k])
        candidates += [(f"{best}/d{k:02d}+", up, {"stage": "sensitivity"}), (f"{best}/d{k:02d}-", down, {"stage": "sensitivity"})]
    frames = runner.evaluate(candidates, seeds, setup.n_consumers)
    ids = obj.targets.ids
    kpi_ids = obj.targets.kpis
    jac = np.zeros((len(ids), space.dim))
    kjac = np.zeros((len(ids), space.dim))
    for k in range(space.dim):
        hi = frames[f"{best}/d{k:02d}+"].reindex(columns=kpi_ids).to_numpy(dtype=float)
        lo = frames[f"{best}/d{k:02d}-"].reindex(columns=kpi_ids).to_numpy(dtype=float)
        diff = hi - lo
        count = np.isfinite(diff).sum(axis=0)
        dk = np.where(count > 0, np.nansum(diff, axis=0) / np.maximum(count, 1), np.nan) / steps[k]
        kjac[:, k] = dk
        jac[:, k] = dk / obj.targets.scales
    jac = np.nan_to_num(jac)
    kjac = np.nan_to_num(kjac)
    raw = jac.copy()
    if noise_sd is not None:
        se = np.nan_to_num(np.asarray(noise_sd, dtype=float), nan=np.inf)[:, None] * np.sqrt(2.0 / len(seeds)) / np.array(steps)[None, :]
        keep = np.abs(kjac) > 2 * se
        jac, kjac = np.where(keep, jac, 0.0), np.where(keep, kjac, 0.0)
    centre = runner.kpis(result.overrides(best), seeds, setup.n_consumers).reindex(columns=kpi_ids).mean(axis=0).to_numpy()
    return Sensitivity(
        pd.DataFrame(jac, index=ids, columns=space.keys),
        pd.DataFrame(kjac, index=ids, columns=space.keys),
        _summary(result, jac, kjac, centre, x0),
        pd.DataFrame(raw, index=ids, columns=space.keys),
    )


def _summary(result: SearchResult, jac: np.ndarray, kjac: np.ndarray, centre: np.ndarray, x0: np.ndarray) -> pd.DataFrame:
    setup = result.setup
    space, targets = setup.space, setup.objective.targets
    w = targets.weights / targets.weights.sum() * len(targets)
    info = jac.T @ (jac * w[:, None])
    cov = np.linalg.pinv(info)
    rows = []
    values = space.from_unit(x0)
    for k, p in enumerate(space.parameters):
        order = np.argsort(-np.abs(jac[:, k]) * w)
        top = [f"{targets.ids[i]} ({jac[i, k]:+.1f})" for i in order[:3] if abs(jac[i, k]) > 1e-9]
        marginal = 1.0 / np.sqrt(info[k, k]) if info[k, k] > 0 else np.inf
        joint = float(np.sqrt(max(cov[k, k], 0.0))) if info[k, k] > 0 else np.inf
        lead = order[0]
        span = p.high - p.low if p.scale == "linear" else np.log(p.high / p.low)
        dvalue = span  # d value / d unit at x0 for linear; d log value / d unit for log
        if p.scale == "linear":
            elasticity = kjac[lead, k] / dvalue * values[k] / centre[lead] if centre[lead] else np.nan
        else:
            elasticity = kjac[lead, k] / dvalue / centre[lead] if centre[lead] else np.nan
        rows.append({
            "parameter": p.key,
            "value": float(values[k]),
            "low": p.low,
            "high": p.high,
            "top_targets": "; ".join(top) if top else "(none)",
            "elasticity_top": float(elasticity),
            "precision_marginal": float(marginal),
            "precision_joint": float(joint),
            "identified": "well" if joint <= 0.2 else ("partly" if joint <= 0.5 else "weakly"),
        })
    return pd.DataFrame(rows).set_index("parameter")
