"""Matplotlib figures of a run: the funnel, monthly sales by powertrain, the stock coefficient."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt

from simsales.run import RunResult
from simsales.seasonality import monthly_actuals

#: Stages of the buyer's journey: column, label, the earlier stage it is a subset of (its
#: conversion rate is printed against it), and whether it counts store contacts rather than
#: people (a buyer who visits three stores counts three times: not a subset of the stage above).
FUNNEL = (
    ("entries", "entered the market", None, False),
    ("research_done", "finished online research", "entries", False),
    ("online_leads", "online leads (per store)", None, True),
    ("store_visitors", "store visits (first per store)", None, True),
    ("test_drives", "test drives (per store)", "store_visitors", True),
    ("orders", "orders", "entries", False),
    ("deliveries", "deliveries", "orders", False),
)


def funnel_figure(result: RunResult) -> plt.Figure:
    """The journey's stages over the recorded window in real people and contacts (millions), each with
    its conversion rate from the stage it is a subset of; per-store stages are hatched, given per entrant."""
    fig, ax = plt.subplots(figsize=(9, 5))
    totals = {name: float(result.daily[name].sum()) for name, _, _, _ in FUNNEL}
    y = list(range(len(FUNNEL)))[::-1]
    top = max(max(totals.values()), 1.0) / 1e6
    entrants = totals["entries"]
    for yi, (name, _, parent, per_store) in zip(y, FUNNEL, strict=True):
        value = totals[name] / 1e6
        ax.barh(yi, value, color="#a9c6ee" if per_store else "#3b7dd8", hatch="//" if per_store else "", edgecolor="white")
        notes = []
        if parent is not None and totals[parent] > 0:
            notes.append(f"{100 * totals[name] / totals[parent]:.0f}% of { {n: lbl for n, lbl, _, _ in FUNNEL}[parent]}")
        if per_store and entrants > 0:
            notes.append(f"{totals[name] / entrants:.2f} per entrant")
        elif name != "entries" and entrants > 0:
            notes.append(f"{100 * totals[name] / entrants:.1f}% of entrants")
        ax.text(value + 0.01 * top, yi, f"{value:.2f} M  " + "; ".join(notes), va="center", fontsize=8)
    ax.set_yticks(y, [label for _, label, _, _ in FUNNEL])
    ax.set_xlim(0, top * 1.9)
    ax.set_xlabel(f"million people or store contacts over the {len(result.daily)} recorded days (real units)")
    ax.set_title(f"Buyer's journey funnel ({result.scenario})")
    handles = [
        plt.Rectangle((0, 0), 1, 1, color="#3b7dd8"),
        plt.Rectangle((0, 0), 1, 1, facecolor="#a9c6ee", hatch="//", edgecolor="white"),
    ]
    fig.legend(
        handles,
        ["people, each counted once", "store contacts: a buyer counts at every store visited (not a subset of the bar above)"],
        loc="lower left", bbox_to_anchor=(0.01, 0.04), ncol=1, fontsize=8, frameon=False,
    )  # fmt: skip
    fig.text(
        0.015, 0.01, "Flows within the window: people who entered before it may order or take delivery in it.",
        ha="left", va="bottom", fontsize=7, color="#555555",
    )  # fmt: skip
    fig.tight_layout(rect=(0, 0.15, 1, 1))
    return fig


def sales_figure(result: RunResult) -> plt.Figure:
    """Monthly deliveries stacked by powertrain, in thousand cars (real units), against 2023's monthly sales."""
    m = result.monthly
    fig, ax = plt.subplots(figsize=(8, 4.2))
    bottom = None
    partial = (m["days"] < m["month"].dt.days_in_month).to_numpy()
    for name, colour in (("ICE", "#888888"), ("PHEV", "#f0a030"), ("BEV", "#30a050")):
        values = m[f"deliveries_{name}"] / 1e3
        bars = ax.bar(m["month"], values, width=20, bottom=bottom, label=name, color=colour)
        for bar, cut in zip(bars, partial, strict=True):
            bar.set_alpha(0.4 if cut else 1.0)
        bottom = values if bottom is None else bottom + values
    actuals = monthly_actuals()
    shown = actuals[actuals.index.isin(m["month"])]
    if len(shown):
        ax.plot(shown.index, shown.to_numpy() * 1e3, "k.-", lw=1.2, label="2023 actual (CAAM)")
    ax.set_ylabel("deliveries per month (thousand cars)")
    ax.set_xlabel("month" + (" (pale: month only partly recorded)" if partial.any() else ""))
    ax.set_title("Monthly sales by powertrain")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, frameon=False)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def stock_figure(result: RunResult) -> plt.Figure:
    """Monthly stock coefficient, overall and by segment, with the 1.0-1.5 healthy band."""
    m = result.monthly
    fig, ax = plt.subplots(figsize=(8, 4.2))
    ax.axhspan(1.0, 1.5, color="#dfe", label="reasonable range 1.0-1.5")
    for col, style, label in (
        ("stock_coefficient", "-", "all cars"),
        ("stock_coefficient_ICE", "--", "ICE"),
        ("stock_coefficient_NEV", ":", "NEV"),
    ):
        ax.plot(m["month"], m[col], style, label=label)
    ax.set_ylabel("stock coefficient (months of sales)")
    ax.set_xlabel("month")
    ax.set_title("Dealer stock coefficient: month-end stock / month's sales")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, frameon=False)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def save_run_plots(result: RunResult, folder: str | Path) -> list[Path]:
    """Write funnel.png, sales.png and stock.png into `folder`."""
    folder = Path(folder)
    paths = []
    for name, make in (("funnel", funnel_figure), ("sales", sales_figure), ("stock", stock_figure)):
        fig = make(result)
        path = folder / f"{name}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    return paths
