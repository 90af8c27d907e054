"""Matplotlib figures of the dashboard's tables (`simsales.dashboard.compute`), real units on every axis.

Figures are built with `matplotlib.figure.Figure` (no pyplot state), so the web server can draw
them from any thread.
"""

from __future__ import annotations

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

BASELINE_COLOUR = "#7f7f7f"
FOCUS_COLOUR = "#1f77b4"


def _colour(arm: str, baseline: str) -> str:
    return BASELINE_COLOUR if arm == baseline else FOCUS_COLOUR


def monthly_figure(bands: pd.DataFrame, baseline: str, width: float = 11.0) -> Figure:
    """Monthly sales and month-end stock: mean line and replicate range band per arm, baseline in grey."""
    series = list(dict.fromkeys(bands["series"]))
    fig = Figure(figsize=(width, 3.6), layout="constrained")
    axes = fig.subplots(1, len(series), squeeze=False)[0]
    for ax, key in zip(axes, series, strict=True):
        sub = bands[bands["series"] == key]
        for arm, grp in sub.groupby("arm", sort=False):
            colour = _colour(str(arm), baseline)
            n = int(grp["replicates"].max())
            ax.fill_between(grp["month"], grp["low"], grp["high"], color=colour, alpha=0.2, linewidth=0)
            ax.plot(
                grp["month"],
                grp["mean"],
                color=colour,
                marker="o",
                markersize=3,
                label=f"{arm} (mean of {n}, band: range)",
            )
        ax.set_title(str(sub["label"].iloc[0]))
        ax.set_ylabel(str(sub["unit"].iloc[0]))
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator()))
        ax.spines[["top", "right"]].set_visible(False)
    axes[0].legend(loc="lower right", fontsize=8, frameon=False)
    return fig


def funnel_figure(table: pd.DataFrame, baseline: str, width: float = 5.5) -> Figure:
    """Buying funnel: real people (or leads) a year at each stage, one bar per arm, with the share of entrants."""
    stages = list(dict.fromkeys(table["stage"]))
    arms = list(dict.fromkeys(table["arm"]))
    fig = Figure(figsize=(width, 3.6), layout="constrained")
    ax = fig.subplots()
    height = 0.8 / len(arms)
    y = np.arange(len(stages))[::-1]
    top = float(table["value"].max())
    for i, arm in enumerate(arms):
        sub = table[table["arm"] == arm].set_index("stage").reindex(stages)
        pos = y + (len(arms) - 1 - 2 * i) * height / 2
        ax.barh(pos, sub["value"], height=height * 0.95, color=_colour(arm, baseline), label=arm)
        for p, v, s in zip(pos, sub["value"], sub["share_of_entrants"], strict=True):
            ax.text(v + top * 0.01, p, f"{v:,.1f} M ({s:.0f}%)", va="center", fontsize=7)
    ax.set_yticks(y, stages)
    ax.set_xlim(0, top * 1.3)
    ax.set_xlabel(f"{table['unit'].iloc[0]} (real units; % of market entrants)")
    ax.spines[["top", "right"]].set_visible(False)
    if len(arms) > 1:
        ax.legend(loc="lower right", fontsize=8, frameon=False)
    return fig


def effects_figure(table: pd.DataFrame, width: float = 5.5) -> Figure:
    """Paired effect of the scenario on each KPI, relative to the baseline mean, with its 95% CI."""
    fig = Figure(figsize=(width, 3.6), layout="constrained")
    ax = fig.subplots()
    t = table.reset_index(drop=True)
    y = np.arange(len(t))[::-1]
    mid = 100 * t["rel_diff"].to_numpy(dtype=float)
    lo = 100 * t["rel_ci_low"].to_numpy(dtype=float)
    hi = 100 * t["rel_ci_high"].to_numpy(dtype=float)
    significant = t["significant"].to_numpy(dtype=bool)
    err = np.vstack([np.nan_to_num(mid - lo), np.nan_to_num(hi - mid)])
    ax.errorbar(mid, y, xerr=err, fmt="none", ecolor="#555555", capsize=3, linewidth=1)
    ax.scatter(mid[significant], y[significant], color=FOCUS_COLOUR, zorder=3, label="95% CI excludes 0")
    ax.scatter(
        mid[~significant], y[~significant], facecolor="white", edgecolor=FOCUS_COLOUR, zorder=3, label="CI includes 0"
    )
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, fontsize=7, frameon=False)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks(y, t["kpi"])
    ax.set_xlabel("change vs baseline, % of its mean (paired 95% CI)")
    ax.set_title(f"Effect of {t['arm'].iloc[0]}" if len(t) else "Effects")
    ax.grid(axis="x", alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    return fig
