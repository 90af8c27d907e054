"""Matplotlib figures of an experiment: forest plot, fan charts, tornado chart, breach heat map.

Each function takes the tables an `ExperimentResult` produces and returns a Figure, so the
same figures can be drawn from tables read back from a results directory.  The backend is left
to matplotlib (inline in notebooks, Agg on a headless machine).
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from simsales.kpis import REGISTRY
from simsales.units import display_scale


def _unit(kpi: str) -> str:
    return REGISTRY[kpi].unit if kpi in REGISTRY else ""


def forest_plot(differences: pd.DataFrame, kpis: Sequence[str] | None = None, baseline: str = "baseline") -> plt.Figure:
    """Paired difference of each arm to the baseline with its 95% CI, one panel per KPI."""
    kpis = list(kpis) if kpis is not None else list(dict.fromkeys(differences["kpi"]))
    kpis = [k for k in kpis if k in set(differences["kpi"])]
    arms = list(dict.fromkeys(differences["arm"]))
    n = max(len(kpis), 1)
    cols = min(n, 4)
    rows = int(np.ceil(n / cols))
    label = 0.075 * max((len(a) for a in arms), default=10)  # inches for the arm names
    fig, axes = plt.subplots(
        rows, cols, figsize=(label + 2.8 * cols, (0.28 * len(arms) + 1.3) * rows + 0.6), squeeze=False, sharey=True
    )
    y = np.arange(len(arms))[::-1]
    for ax, kpi in zip(axes.flat, kpis, strict=False):
        sub = differences[differences["kpi"] == kpi].set_index("arm").reindex(arms)
        for yi, row in zip(y, sub.itertuples(), strict=True):
            colour = "#c0392b" if row.significant is True else "#555555"
            if np.isfinite(row.ci_low):
                ax.plot([row.ci_low, row.ci_high], [yi, yi], color=colour, lw=2)
            ax.plot([row.diff], [yi], "o", color=colour, ms=4)
        ax.axvline(0, color="#999999", lw=1)
        ax.set_yticks(y, arms, fontsize=8)
        ax.set_title(kpi, fontsize=9)
        ax.set_xlabel(f"difference ({_unit(kpi)})" if _unit(kpi) else "difference", fontsize=8)
        ax.tick_params(axis="x", labelsize=8)
    for ax in list(axes.flat)[len(kpis) :]:
        ax.set_visible(False)
    fig.suptitle(f"Difference to {baseline} (paired over replicates, 95% CI; red: CI excludes 0)", fontsize=10)
    fig.tight_layout()
    return fig


def fan_chart(monthly: pd.DataFrame, series: str, arms: Sequence[str] | None = None) -> plt.Figure:
    """Median of a monthly series across replicates with 50% and 90% bands, one colour per arm."""
    arms = list(arms) if arms is not None else list(dict.fromkeys(monthly["arm"]))
    factor, unit = display_scale(series)
    fig, ax = plt.subplots(figsize=(8, 4.5))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, arm in enumerate(arms):
        sub = monthly[monthly["arm"] == arm]
        if sub.empty or series not in sub.columns:
            continue
        q = sub.groupby("month")[series].quantile([0.05, 0.25, 0.5, 0.75, 0.95]).unstack() * factor
        c = colours[i % len(colours)]
        ax.fill_between(q.index, q[0.05], q[0.95], color=c, alpha=0.12, lw=0)
        ax.fill_between(q.index, q[0.25], q[0.75], color=c, alpha=0.25, lw=0)
        ax.plot(q.index, q[0.5], color=c, label=arm)
    ax.set_title(f"{series} by month: median, 50% and 90% of replicates")
    ax.set_ylabel(f"{series} ({unit})" if unit else series)
    ax.set_xlabel("month")
    if len(arms) <= 12:
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def tornado_chart(indices: pd.DataFrame, kpi: str, top: int = 10) -> plt.Figure:
    """Sensitivity indices of one KPI as horizontal bars, largest on top (ST and S1, or Morris mu*)."""
    sub = indices[indices["kpi"] == kpi]
    sobol = "ST" in sub.columns and sub["ST"].notna().any()
    key = "ST" if sobol else "mu_star"
    sub = sub.sort_values(key, ascending=True).tail(top)
    fig, ax = plt.subplots(figsize=(7, 0.4 * len(sub) + 1.5))
    y = np.arange(len(sub))
    if sobol:
        ax.barh(y, sub["ST"], xerr=sub["ST_conf"], color="#3b7dd8", alpha=0.5, label="total effect ST")
        ax.barh(y, sub["S1"], color="#1f4e99", height=0.4, label="first order S1")
        ax.set_xlabel("Sobol index (share of output variance)")
        ax.legend(fontsize=8, loc="lower right")
    else:
        ax.barh(y, sub["mu_star"], xerr=sub.get("mu_star_conf"), color="#3b7dd8")
        ax.set_xlabel(f"Morris mu* ({_unit(kpi)})")
    ax.set_yticks(y, sub["parameter"])
    ax.set_title(f"Sensitivity of {kpi}")
    fig.tight_layout()
    return fig


def breach_heatmap(breaches: pd.DataFrame, threshold: str, rows: Sequence[str], column: str) -> plt.Figure:
    """P(breach) of one threshold as a grid: combinations of `rows` factors (e.g. shocks) x levels of `column` (e.g. plan)."""
    sub = breaches[breaches["threshold"] == threshold].copy()
    if rows:
        sub["_row"] = [", ".join(f"{r}={v}" for r, v in zip(rows, vals, strict=True)) for vals in sub[list(rows)].astype(str).itertuples(index=False)]
    else:
        sub["_row"] = "all"
    grid = sub.pivot_table(index="_row", columns=column, values="probability", aggfunc="mean", sort=False)
    fig, ax = plt.subplots(figsize=(1.8 * grid.shape[1] + 3, 0.6 * grid.shape[0] + 1.8))
    im = ax.imshow(grid.to_numpy(dtype=float), vmin=0, vmax=1, cmap="Reds", aspect="auto")
    ax.set_xticks(range(grid.shape[1]), [f"{column}={c}" for c in grid.columns])
    ax.set_yticks(range(grid.shape[0]), grid.index)
    for (i, j), value in np.ndenumerate(grid.to_numpy(dtype=float)):
        if np.isfinite(value):
            ax.text(j, i, f"{value:.0%}", ha="center", va="center", color="white" if value > 0.6 else "black")
    ax.set_title(f"P({threshold})", fontsize=10)
    fig.colorbar(im, ax=ax, label="breach probability")
    fig.tight_layout()
    return fig
