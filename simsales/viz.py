"""Mesa visualisation of a `MarketModel` (SolaraViz): daily sales, stock and the salesforce.

Start it with `solara run simsales/viz.py` (needs the `viz` extra).  The parameter controls
rebuild the model from keyword arguments, as Mesa's visualisation expects.
"""

from __future__ import annotations

from typing import Any

from simsales.model import MarketModel

MODEL_PARAMS: dict[str, dict[str, Any]] = {
    "n_consumers": {"type": "SliderInt", "value": 50_000, "label": "Consumers", "min": 5_000, "max": 500_000, "step": 5_000},
    "warmup_days": {"type": "SliderInt", "value": 180, "label": "Warm-up days", "min": 0, "max": 545, "step": 5},
    "days": {"type": "SliderInt", "value": 365, "label": "Recorded days", "min": 30, "max": 1095, "step": 5},
    "seed": {"type": "InputText", "value": 2023, "label": "Seed"},
}


def make_app(model: MarketModel | None = None, **model_kwargs: Any) -> Any:
    """A SolaraViz page for `model` (or a new model built from `model_kwargs`)."""
    from mesa.visualization import SolaraViz, make_plot_component

    if model is None:
        model = MarketModel(**model_kwargs)
    components = [
        make_plot_component({"deliveries": "tab:blue", "orders": "tab:orange"}),
        make_plot_component({"leads": "tab:green"}),
        make_plot_component({"stock": "tab:red"}),
        make_plot_component({"in_market": "tab:purple", "salespeople": "tab:brown"}),
    ]
    return SolaraViz(model, components=components, model_params=MODEL_PARAMS, name="simsales: China car retail")


def __getattr__(name: str) -> Any:
    """`page` is built lazily, so importing this module does not start a model."""
    if name == "page":
        return make_app(n_consumers=50_000, warmup_days=180)
    raise AttributeError(name)
