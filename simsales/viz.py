"""Mesa visualisation of a `MarketModel` (SolaraViz), in real units: daily deliveries, dealer stock, salesforce.

Start it with `solara run simsales/viz.py` (needs the `viz` extra; `Page` is the served component).  The parameter controls
rebuild the model from keyword arguments, as Mesa's visualisation expects.  Each step is one
day; the charts read the model's DataCollector and scale agent counts to the real market
(scaled by `simsales.units.real_scale`, real households per consumer agent), warm-up days shaded.
For whole scenarios with replicates and KPIs use the dashboard (`python -m simsales.dashboard`).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from simsales.model import MarketModel
from simsales.units import real_scale

MODEL_PARAMS: dict[str, dict[str, Any]] = {
    "n_consumers": {
        "type": "SliderInt",
        "value": 50_000,
        "label": "Consumers",
        "min": 5_000,
        "max": 500_000,
        "step": 5_000,
    },
    "warmup_days": {"type": "SliderInt", "value": 180, "label": "Warm-up days", "min": 0, "max": 545, "step": 5},
    "days": {"type": "SliderInt", "value": 365, "label": "Recorded days", "min": 30, "max": 1095, "step": 5},
    "seed": {"type": "InputText", "value": 2023, "label": "Seed"},
}

#: Real-unit series drawn on the page: column -> (title, DataCollector reporter, unit).
SERIES: dict[str, tuple[str, str, str]] = {
    "deliveries_cars": ("Daily deliveries", "deliveries", "cars / day"),
    "stock_cars": ("Dealer stock", "stock", "cars"),
    "headcount": ("Salesforce headcount", "salespeople", "salespeople"),
}


def real_series(model: MarketModel) -> pd.DataFrame:
    """One row per simulated day so far: date, recorded flag and each series of `SERIES` in real units."""
    frame = model.datacollector.get_model_vars_dataframe()
    scale = real_scale(model.spec.run)  # the model's DataCollector counts agents
    out = pd.DataFrame({"date": pd.to_datetime(frame["date"]), "recorded": frame["recorded"].astype(bool)})
    for column, (_, reporter, _) in SERIES.items():
        out[column] = frame[reporter].to_numpy(dtype=float) * scale
    return out.reset_index(drop=True)


def series_figure(model: MarketModel, column: str) -> Any:
    """A matplotlib Figure of one real-unit series against the date, warm-up days shaded grey."""
    import matplotlib.dates as mdates
    from matplotlib.figure import Figure

    title, _, unit = SERIES[column]
    data = real_series(model)
    fig = Figure(figsize=(6, 3), layout="constrained")
    ax = fig.subplots()
    ax.plot(data["date"], data[column], color="tab:blue", linewidth=1)
    warm = data.loc[~data["recorded"], "date"]
    if len(warm):
        ax.axvspan(warm.iloc[0], warm.iloc[-1], color="0.9", label="warm-up (not recorded)")
        ax.legend(loc="upper left", fontsize=8, frameon=False)
    ax.set_title(f"{title} (real market)")
    ax.set_ylabel(unit)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator()))
    return fig


def make_series_component(column: str) -> Any:
    """A SolaraViz component (model -> element) drawing one real-unit series; re-drawn every rendered step."""
    import solara

    def component(model: MarketModel) -> Any:
        return solara.FigureMatplotlib(series_figure(model, column), format="png")

    component.__name__ = f"Plot_{column}"
    return component


def make_app(model: MarketModel | None = None, **model_kwargs: Any) -> Any:
    """A SolaraViz page for `model` (or a new model built from `model_kwargs`)."""
    from mesa.visualization import SolaraViz

    if model is None:
        model = MarketModel(**model_kwargs)
    components = [(make_series_component(column), 0) for column in SERIES]
    return SolaraViz(
        model, components=components, model_params=MODEL_PARAMS, name="simsales: China car retail (real units)"
    )


def _page() -> Any:
    """The page `solara run simsales/viz.py` serves: a model at the parameters' defaults, built once per browser session."""
    import solara

    defaults = {k: v["value"] for k, v in MODEL_PARAMS.items()}
    model = solara.use_memo(lambda: MarketModel(**{**defaults, "seed": int(defaults["seed"])}), [])
    return make_app(model)


try:  # solara (the `viz` extra) is optional: without it the module still gives real_series and series_figure
    import solara as _solara
except ImportError:  # pragma: no cover - depends on the installed extras
    _solara = None
if _solara is not None:
    Page = _solara.component(_page)
