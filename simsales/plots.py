"""Matplotlib figures of a run: the funnel, monthly sales by powertrain, the stock coefficient."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from simsales.run import RunResult  # noqa: E402

FUNNEL = (
    ("entries", "entered market"),
    ("research_done", "researched online"),
    ("online_leads", "online leads"),
    ("store_visitors", "store visitors"),
    ("test_drives", "test drives"),
    ("orders", "orders"),
    ("deliveries", "deliveries"),
)


def funnel_figure(result: RunResult) -> plt.Figure:
    """Horizontal bars of the journey's stages over the recorded window."""
    fig, ax = plt.subplots(figsize=(7, 4))
    labels = [label for _, label in FUNNEL]
    values = [result.daily[name].sum() for name, _ in FUNNEL]
    ax.barh(labels[::-1], values[::-1], color="#3b7dd8")
    ax.set_xlabel("consumer agents")
    ax.set_title(f"Buyer's journey funnel ({result.scenario})")
    fig.tight_layout()
    return fig


def sales_figure(result: RunResult) -> plt.Figure:
    """Monthly deliveries stacked by powertrain."""
    m = result.monthly
    fig, ax = plt.subplots(figsize=(8, 4))
    bottom = None
    for name, colour in (("ICE", "#888888"), ("PHEV", "#f0a030"), ("BEV", "#30a050")):
        values = m[f"deliveries_{name}"]
        ax.bar(m["month"], values, width=20, bottom=bottom, label=name, color=colour)
        bottom = values if bottom is None else bottom + values
    ax.set_ylabel("deliveries (agents)")
    ax.set_title("Monthly sales by powertrain")
    ax.legend()
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def stock_figure(result: RunResult) -> plt.Figure:
    """Monthly stock coefficient, overall and by segment, with the 1.0-1.5 healthy band."""
    m = result.monthly
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.axhspan(1.0, 1.5, color="#dfe", label="reasonable range 1.0-1.5")
    for col, style in (("stock_coefficient", "-"), ("stock_coefficient_ICE", "--"), ("stock_coefficient_NEV", ":")):
        ax.plot(m["month"], m[col], style, label=col.replace("_", " "))
    ax.set_ylabel("months of sales")
    ax.set_title("Dealer stock coefficient")
    ax.legend()
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
