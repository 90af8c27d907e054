"""Mesa's visualisation renders a MarketModel as real-unit charts that match the model's own counters."""

from __future__ import annotations

import io

import numpy as np
import pytest

solara = pytest.importorskip("solara")
ipywidgets = pytest.importorskip("ipywidgets")

from simsales import MarketModel  # noqa: E402 - after the optional-dependency skips
from simsales.viz import MODEL_PARAMS, SERIES, make_app, real_series, series_figure  # noqa: E402


@pytest.fixture(scope="module")
def model() -> MarketModel:
    m = MarketModel(n_consumers=3_000, warmup_days=60, days=40, seed=5)
    for _ in range(80):
        m.step()
    return m


def test_series_are_the_model_counters_in_real_units(model: MarketModel) -> None:
    data = real_series(model)
    scale = model.spec.run.real_population / model.spec.run.n_consumers  # households per agent
    assert len(data) == 80 and int(data["recorded"].sum()) == 20
    rec = model.recorder
    # recorded deliveries are the recorder's total, scaled to real cars
    assert data.loc[data["recorded"], "deliveries_cars"].sum() == pytest.approx(rec.total("deliveries") * scale)
    assert rec.total("deliveries") > 0
    # levels on each day: stock is ICE + NEV stock, headcount the salesforce, in real units
    days = np.arange(80)
    np.testing.assert_allclose(
        data["stock_cars"], (rec.levels["stock_ICE"][days] + rec.levels["stock_NEV"][days]) * scale
    )
    np.testing.assert_allclose(data["headcount"], rec.levels["headcount"][days] * scale)
    assert data["date"].iloc[60] == np.datetime64(model.spec.run.start_date)


def test_figures_plot_those_series_with_units(model: MarketModel) -> None:
    data = real_series(model)
    for column, (_, _, unit) in SERIES.items():
        ax = series_figure(model, column).axes[0]
        np.testing.assert_allclose(ax.lines[0].get_ydata(), data[column])
        assert ax.get_ylabel() == unit


def test_solara_page_shows_exactly_those_figures(model: MarketModel) -> None:
    _box, rc = solara.render(make_app(model), handle_error=False)
    shown = [w.value for w in rc.find(ipywidgets.Image).widgets]
    expected = []
    for column in SERIES:
        buf = io.BytesIO()
        series_figure(model, column).savefig(buf, format="png")
        expected.append(buf.getvalue())
    assert shown == expected


def test_model_rebuilds_from_the_page_parameters() -> None:
    kwargs = {k: v["value"] for k, v in MODEL_PARAMS.items()}
    kwargs.update(n_consumers=3_000, warmup_days=5, days=5, seed=int(kwargs["seed"]))
    rebuilt = MarketModel(**kwargs)
    assert rebuilt.spec.run.n_consumers == 3_000 and rebuilt.spec.run.days == 5


def test_module_serves_a_page_component() -> None:
    """`solara run simsales/viz.py` looks for `Page`: it builds a model at the parameters' defaults."""
    from simsales.viz import Page

    _box, rc = solara.render(Page(), handle_error=False)
    assert len(rc.find(ipywidgets.Image).widgets) == len(SERIES)
