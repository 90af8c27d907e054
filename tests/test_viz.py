"""Mesa's visualisation renders a MarketModel and its plots track the DataCollector."""

from __future__ import annotations

import pytest

solara = pytest.importorskip("solara")

from simsales import MarketModel  # noqa: E402
from simsales.viz import MODEL_PARAMS, make_app  # noqa: E402


def test_solara_page_renders_and_model_rebuilds_from_its_parameters() -> None:
    model = MarketModel(n_consumers=3_000, warmup_days=10, days=20, seed=5)
    for _ in range(15):
        model.step()
    box, rc = solara.render(make_app(model), handle_error=False)
    assert rc is not None
    frame = model.datacollector.get_model_vars_dataframe()
    assert len(frame) == 15 and {"deliveries", "stock", "salespeople"} <= set(frame.columns)
    # the visualisation rebuilds a model from keyword arguments only
    kwargs = {k: v["value"] for k, v in MODEL_PARAMS.items()}
    kwargs.update(n_consumers=3_000, warmup_days=5, days=5, seed=int(kwargs["seed"]))
    rebuilt = MarketModel(**kwargs)
    assert rebuilt.spec.run.n_consumers == 3_000
