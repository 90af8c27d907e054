"""Warm starts: an arm continued from its event-free twin's warm-up equals a cold run, day for day."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from simsales import MarketModel
from simsales.scenario import load_scenario
from simsales.warmstart import continue_from, first_effect_day, shared_warmup, warm_up

SMALL = {"run.n_consumers": 2_000, "run.warmup_days": 30}
#: One file per way an event reaches the model: a price shock, an announced policy change, a
#: budgeted subsidy, lever strategies with running costs, stock pooling, and a risk plan.
FILES = (
    "shock_price_war_nev",
    "shock_purchase_tax_phaseout",
    "shock_trade_in_subsidy_budget",
    "strategy_ai_customer_service",
    "strategy_inventory_sharing",
    "riskplan_inventory_under_stock_push",
)


def _finish(model: MarketModel) -> MarketModel:
    while model.running:
        model.step()
    return model


@pytest.mark.parametrize("name", FILES)
def test_a_warm_started_arm_equals_its_cold_run(tmp_path: Path, name: str) -> None:
    spec = load_scenario(f"experiments/{name}.toml", overrides=SMALL)
    baseline = load_scenario(overrides={**SMALL, "run.days": spec.run.days, "run.start_date": spec.run.start_date})
    shared = shared_warmup([baseline, spec])
    assert shared is not None
    twin, day = shared
    assert day == first_effect_day(spec) >= SMALL["run.warmup_days"]  # events act from the recorded window on
    cold = _finish(MarketModel(scenario=spec, seed=8))
    warm = _finish(continue_from(warm_up(twin, 8, day, tmp_path / "warm.simsnap"), spec))
    pd.testing.assert_frame_equal(warm.recorder.daily(), cold.recorder.daily())
    assert warm.kpis() == pytest.approx(cold.kpis(), nan_ok=True)
    pd.testing.assert_frame_equal(warm.timeline.rule_log(), cold.timeline.rule_log())
    assert warm.recorder.total("deliveries") > 0


def test_scenarios_that_differ_beyond_their_events_share_nothing() -> None:
    base = load_scenario(overrides=SMALL)
    other = base.replace(**{"journey.outside_utility": base.journey.outside_utility + 0.1})
    assert shared_warmup([base, other]) is None
    stores = load_scenario("experiments/strategy_store_network.toml", overrides=SMALL)
    assert first_effect_day(stores) == 0  # its stores exist (closed) from construction
    assert shared_warmup([load_scenario(overrides={**SMALL, "run.days": stores.run.days}), stores]) is None
