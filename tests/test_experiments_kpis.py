"""The focal firm's margin and profit KPIs that experiments and stress tests report, checked against the flows."""

from __future__ import annotations

import numpy as np
import pytest

from simsales.kpis import compute_kpis

COSTS = ("acquisition_cost", "commission_cost", "salary_cost", "fixed_cost", "financing_cost")


def test_when_every_store_is_focal_the_focal_flows_equal_the_market_flows(make_model) -> None:
    model = make_model(n_consumers=6_000, days=60, warmup_days=60, seed=3, params={"network.focal_store_share": 1.0})
    model.run_model()
    rec = model.recorder
    assert model.network.focal.all()
    assert rec.total("focal_gross_margin") == pytest.approx(rec.total("gross_margin"), rel=1e-12)
    assert rec.total("focal_operating_cost") == pytest.approx(sum(rec.total(c) for c in COSTS), rel=1e-9)


def test_focal_margin_and_profit_add_up_from_the_recorder_flows(make_model) -> None:
    model = make_model(n_consumers=8_000, days=90, warmup_days=60, seed=5)
    model.run_model()
    rec = model.recorder
    kpis = compute_kpis(model)
    # the focal firm's costs are a part of the market's, roughly in proportion to its stores
    market_costs = sum(rec.total(c) for c in COSTS)
    assert 0 < rec.total("focal_operating_cost") < market_costs
    focal_stores = model.network.focal.mean()
    share = rec.total("focal_operating_cost") / market_costs
    assert 0.3 * focal_stores < share < 3 * focal_stores  # costs roughly follow the focal firm's store count
    # KPIs: annualised, real-scale billions of yuan
    scale = model.spec.run.real_population / model.spec.run.n_consumers * 365 / 90 / 1e9
    assert kpis["focal.gross_margin"] == pytest.approx(rec.total("focal_gross_margin") * scale)
    profit = rec.total("focal_gross_margin") - rec.total("focal_operating_cost") - rec.total("strategy_cost") - rec.total("risk_cost")
    assert kpis["focal.profit"] == pytest.approx(profit * scale)
    assert kpis["focal.profit"] < kpis["focal.gross_margin"]
    monthly = rec.monthly()
    assert np.isclose(monthly["focal_gross_margin"].sum(), rec.total("focal_gross_margin"))
