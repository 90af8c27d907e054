"""Figures of a calibration: fit dot plot, convergence, identification and ensemble spread."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from simsales.calibration.parameters import ParameterSpace


def fit_dotplot(table: pd.DataFrame, path: Path) -> Path:
    """Simulated versus target for every target as relative error, with the 95% seed interval and tolerance."""
    t = table.iloc[::-1]
    y = np.arange(len(t))
    rel = t["rel_error"].to_numpy() * 100
    lo = (t["low95"] / t["target"].abs() - np.sign(t["target"])) * 100
    hi = (t["high95"] / t["target"].abs() - np.sign(t["target"])) * 100
    lo, hi = np.minimum(lo, hi), np.maximum(lo, hi)
    clip = 100.0
    fig, ax = plt.subplots(figsize=(8, max(6, 0.22 * len(t) + 1.5)))
    tol = t["tolerance"].to_numpy() * 100
    ax.barh(y, 2 * tol, left=-tol, height=0.8, color="0.9", label="tolerance band")
    colors = np.where(t["within"], "tab:green", "tab:red")
    colors = np.where(t["role"] == "holdout", "tab:purple", colors)
    ax.hlines(y, np.clip(lo, -clip, clip), np.clip(hi, -clip, clip), color=colors, lw=1.2)
    ax.scatter(np.clip(rel, -clip, clip), y, c=colors, s=18, zorder=3)
    for yi, r in zip(y, rel, strict=True):
        if abs(r) > clip:
            ax.annotate(f"{r:+.0f}%", (np.sign(r) * clip, yi), fontsize=6, ha="right" if r > 0 else "left", va="bottom")
    ax.axvline(0, color="0.4", lw=0.8)
    ax.set_yticks(y, t.index, fontsize=7)
    ax.set_xlim(-clip * 1.05, clip * 1.05)
    ax.set_xlabel("simulated vs target (% relative error; bars: 95% interval across seeds)")
    ax.set_title("Calibration fit: green within tolerance, red miss, purple held out")
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path


def convergence(candidates: pd.DataFrame, path: Path) -> Path:
    """Objective of every candidate in evaluation order, coloured by stage, with the running best."""
    fig, ax = plt.subplots(figsize=(8, 4))
    order = np.arange(len(candidates))
    for stage, group in candidates.assign(i=order).groupby("stage", sort=False):
        ax.scatter(group["i"], group["objective"], s=14, label=stage)
    ax.plot(order, candidates["objective"].cummin().to_numpy(), color="k", lw=1.2, label="best so far")
    ax.set_yscale("log")
    ax.set_xlabel("candidate (evaluation order)")
    ax.set_ylabel("objective (weighted mean Huber loss)")
    ax.set_title("Convergence of the calibration objective")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path


def identification(jacobian: pd.DataFrame, summary: pd.DataFrame, path: Path) -> Path:
    """Heat map of residual sensitivities (targets x parameters) and each parameter's precision."""
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(13, max(6, 0.2 * len(jacobian) + 2)), gridspec_kw={"width_ratios": [3, 1]})
    data = jacobian.to_numpy()
    bound = np.nanpercentile(np.abs(data), 98) or 1.0
    im = ax.imshow(data, cmap="RdBu_r", vmin=-bound, vmax=bound, aspect="auto")
    ax.set_yticks(range(len(jacobian)), jacobian.index, fontsize=6)
    ax.set_xticks(range(jacobian.shape[1]), [k.split(".", 1)[1] for k in jacobian.columns], rotation=70, ha="right", fontsize=6)
    fig.colorbar(im, ax=ax, label="change of residual (tolerances) per full parameter range")
    ax.set_title("Local sensitivity at the fit")
    prec = summary["precision_joint"].clip(upper=2.0)
    bx.barh(range(len(prec)), prec, color=np.where(prec <= 0.2, "tab:green", np.where(prec <= 0.5, "tab:orange", "tab:red")))
    bx.set_yticks(range(len(prec)), [k.split(".", 1)[1] for k in prec.index], fontsize=6)
    bx.invert_yaxis()
    bx.set_xlabel("precision (share of range, others re-fitted)")
    bx.set_title("Identification")
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path


def ensemble_spread(ensemble: pd.DataFrame, candidates: pd.DataFrame, space: ParameterSpace, path: Path) -> Path:
    """Where the accepted parameter sets lie within each parameter's bounds (unit scale)."""
    fig, ax = plt.subplots(figsize=(8, 0.3 * space.dim + 1.5))
    all_x = space.to_unit(candidates[space.keys].to_numpy(dtype=float))
    ens_x = space.to_unit(ensemble[space.keys].to_numpy(dtype=float))
    for k in range(space.dim):
        ax.scatter(all_x[:, k], np.full(len(all_x), k), s=6, color="0.75")
        ax.scatter(ens_x[:, k], np.full(len(ens_x), k), s=16, color="tab:blue")
        ax.scatter(ens_x[0, k], k, s=40, marker="D", color="tab:red")
    ax.set_yticks(range(space.dim), [k.split(".", 1)[1] for k in space.keys], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(-0.02, 1.02)
    ax.set_xlabel("position within bounds (0 = low, 1 = high)")
    ax.set_title("Ensemble: accepted sets (blue), best (red), all candidates (grey)")
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path
