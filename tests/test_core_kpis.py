"""KPIs: the comparison table's arithmetic, and KPIs that agree with the recorded series."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from simsales import MarketModel
from simsales.kpis import REGISTRY, compute_kpis, kpi_table, load_targets


def test_kpi_table_arithmetic() -> None:
    targets = pd.DataFrame(
        {"value": [100.0, 100.0, 0.0, -50.0], "tolerance": [0.10, 0.20, 0.10, 0.10]},
        index=pd.Index(["a", "b", "zero", "neg"], name="id"),
    )
    table = kpi_table({"a": 109.0, "b": 50.0, "zero": 3.0, "neg": -54.0, "untargeted": 7.0, "nan": np.nan}, targets)
    row = table.set_index("id")
    assert list(table["id"]) == ["a", "b", "zero", "neg", "untargeted", "nan"]
    assert row.at["a", "rel_error"] == pytest.approx(0.09) and row.at["a", "within"]
    assert row.at["b", "rel_error"] == pytest.approx(-0.5) and not row.at["b", "within"]
    assert np.isnan(row.at["zero", "rel_error"]) and not row.at["zero", "within"]  # no relative error at target 0
    assert row.at["neg", "rel_error"] == pytest.approx(-0.08) and row.at["neg", "within"]  # |target| in denominator
    assert np.isnan(row.at["untargeted", "target"]) and not row.at["untargeted", "within"]
    assert not row.at["nan", "within"]
    assert {"id", "value", "target", "rel_error", "tolerance", "within", "unit"} <= set(table.columns)


def test_targets_file_is_consistent() -> None:
    targets = load_targets()
    assert targets.index.is_unique
    assert (targets["tolerance"] > 0).all()
    assert (targets["kpi"] == targets.index).all()
    assert targets["value"].notna().all()


def test_compute_kpis_covers_at_least_25_targets(finished_model: MarketModel) -> None:
    values = compute_kpis(finished_model)
    assert list(values) == list(REGISTRY)
    targets = load_targets()
    finite_targeted = [k for k, v in values.items() if k in targets.index and np.isfinite(v)]
    assert len(finite_targeted) >= 25, finite_targeted
    # the model method is the same computation
    pd.testing.assert_series_equal(pd.Series(finished_model.kpis()), pd.Series(values))


def test_share_kpis_are_percentages(finished_model: MarketModel) -> None:
    values = compute_kpis(finished_model)
    for key, kpi in REGISTRY.items():
        if kpi.unit == "%" and np.isfinite(values[key]) and not key.endswith("_yoy"):
            assert 0.0 <= values[key] <= 100.0, key


def test_kpis_agree_with_the_daily_series(finished_model: MarketModel) -> None:
    m = finished_model
    daily = m.recorder.daily()
    values = compute_kpis(m)
    total = daily.sum(numeric_only=True)
    nev = total["deliveries_BEV"] + total["deliveries_PHEV"]
    assert len(daily) == m.spec.run.days
    assert values["market.nev_share"] == pytest.approx(100 * nev / total["deliveries"])
    scale = m.spec.run.real_population / m.spec.run.n_consumers
    expected_sales = total["deliveries"] * scale * 365 / len(daily) / 1e6
    assert values["market.total_sales"] == pytest.approx(expected_sales)
    assert values["market.nev_sales"] == pytest.approx(values["market.bev_sales"] + values["market.phev_sales"])
    # step rates count one cohort (see test_step_rates_count_one_cohort_and_never_exceed_100); over a
    # long window they stay within a few percent of the ratio of window totals
    assert values["journey.test_drive_rate"] == pytest.approx(100 * total["test_drives"] / total["store_visitors"], rel=0.05)
    leads = total["online_leads"] + total["walkin_leads"]
    assert values["journey.lead_conversion"] == pytest.approx(100 * total["orders"] / leads, rel=0.05)
    assert values["journey.store_visits"] == pytest.approx(total["buyer_visits_sum"] / total["deliveries"])
    months = len(daily) / (365 / 12)
    upm = total["orders"] / (daily["headcount"].mean() * months)
    assert values["talent.units_per_person_month"] == pytest.approx(upm)
    assert values["consumer.churn"] == pytest.approx(100 * total["churned"] / total["first_services"])


def test_stock_coefficient_from_monthly_series(finished_model: MarketModel) -> None:
    monthly = finished_model.recorder.monthly()
    full = monthly[monthly["days"] >= 28]
    assert len(full) == 6  # 180 days from 1 January: January to June complete, 27 days of July dropped
    # pooled: month-end stock summed over full months, over those months' sales
    expected = (full["stock_ICE"] + full["stock_NEV"]).sum() / (full["stock_out_ICE"] + full["stock_out_NEV"]).sum()
    assert compute_kpis(finished_model)["inventory.stock_coefficient"] == pytest.approx(expected)


def test_monthly_flows_sum_to_daily(finished_model: MarketModel) -> None:
    daily, monthly = finished_model.recorder.daily(), finished_model.recorder.monthly()
    for name in ("deliveries", "orders", "test_drives", "complaints", "leavers"):
        assert monthly[name].sum() == pytest.approx(daily[name].sum())
    assert monthly["days"].sum() == len(daily)


STEP_RATES = (
    "journey.test_drive_rate",
    "journey.test_drive_to_order",
    "journey.lead_conversion",
    "journey.lead_conversion_nev_direct",
    "journey.lead_conversion_ice_dealer",
)


@pytest.mark.parametrize(("warmup", "days"), [(30, 40), (200, 25), (400, 120)])
def test_step_rates_count_one_cohort_and_never_exceed_100(warmup: int, days: int) -> None:
    """A test drive before a short window and its order inside it once gave rates above 100%.

    Outcomes are counted on the day their cohort started, so on every day and at every store
    the outcomes cannot outnumber the starts, and no step rate can exceed 100%.
    """
    model = MarketModel(n_consumers=4_000, warmup_days=warmup, days=days, seed=3)
    model.run_model()
    rec = model.recorder
    assert (rec.cohorts["visitor_test_drives"] <= rec.flows["store_visitors"]).all()
    assert (rec.cohorts["test_drive_orders"] <= rec.flows["test_drives"]).all()
    assert (rec.cohorts["lead_orders"] <= rec.flows["online_leads"] + rec.flows["walkin_leads"]).all()
    assert (rec.dealer_cohorts["lead_orders"] <= rec.dealer_cohorts["leads"]).all()
    assert rec.cohorts["test_drive_orders"].sum() > 0 and rec.dealer_cohorts["lead_orders"].sum() > 0
    values = compute_kpis(model)
    for key in STEP_RATES:
        assert np.isnan(values[key]) or 0.0 <= values[key] <= 100.0, (key, values[key])


def test_nev_premium_share_is_the_same_in_batches(make_model, monkeypatch: pytest.MonkeyPatch) -> None:
    """The premium KPI is counted in batches (no float64 copy of the population): any batch size, the same figure."""
    from datetime import timedelta

    from simsales.agents import consumers
    from simsales.market.adoption import capped_premium, taste_shift, trend_origin
    from simsales.scenario.schema import POWERTRAINS

    model = make_model(n_consumers=3_000, days=30, warmup_days=0)
    model.run_model()
    spec, run = model.spec.population, model.spec.run
    mid_day = run.start_date + timedelta(days=len(model.recorder.window("deliveries")) // 2)
    years = (mid_day - trend_origin(spec, run.start_date)).days / 365.0
    premium = capped_premium(model.population.nev_wtp + taste_shift(spec, years)[POWERTRAINS.index("BEV")], spec.nev_premium_max)
    whole = float((premium >= 0.10).mean() * 100)
    monkeypatch.setattr(consumers, "BUILD_BATCH", 257)  # a partial last batch too
    assert REGISTRY["consumer.nev_premium_willing"].compute(model) == whole


def test_stores_below_15_percent_count_the_real_outlets_they_stand_for() -> None:
    """Four stores, two below 15% online conversion; the second stands for three times the outlets
    (a store a scenario opens), so the share is (1 + 3) / (1 + 3 + 1 + 1) = 2/3, not 2/4."""
    fn = REGISTRY["journey.dealers_online_conversion_below_15"].compute
    recorder = SimpleNamespace(dealer_online_leads=np.array([100.0, 100.0, 100.0, 100.0, 0.0]), dealer_online_orders=np.array([10.0, 12.0, 20.0, 30.0, 0.0]))
    network = SimpleNamespace(outlet_weight=np.array([500.0, 1500.0, 500.0, 500.0, 9000.0]))  # the last store got no lead: not counted
    assert fn(SimpleNamespace(recorder=recorder, network=network)) == pytest.approx(100 * 4 / 6)
