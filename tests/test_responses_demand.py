"""Demand-side responses users can trust (issue 10), each checked with paired replicates.

Both arms of a pair run the same seed (keyed random numbers), so differences come from the
mechanism under test, not from noise.  Runs are small (20-30k consumers) with short warm-ups:
the trends are anchored to a calendar date (population.trend_origin = 2023-01-01), so a run
that starts in 2028 after a short warm-up has 2028's tastes without simulating 2023-2027.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simsales import journey
from simsales._paths import default_file
from simsales.market.adoption import capped_premium, taste_shift
from simsales.model import MarketModel
from simsales.run import RunResult, release_model, run
from simsales.scenario import Scenario, load_scenario

SEEDS = (11, 12)


def _experiment(name: str) -> Scenario:
    return load_scenario(default_file(f"experiments/{name}.toml"))


def _without_events(spec: Scenario) -> Scenario:
    return dataclasses.replace(spec, shocks=(), strategies=(), risk_rules=())


def _run_model(spec: Scenario, seed: int, n: int) -> MarketModel:
    model = MarketModel(scenario=spec, n_consumers=n, seed=seed)
    model.run_model()
    return model


def _nev_price_coefficients_through_2030(spec: Scenario) -> float:
    """Largest utility change per yuan of NEV price over every consumer, NEV and 30th day from 2023 to 2030-12-31."""
    model = MarketModel(scenario=spec, n_consumers=20_000, days=1, warmup_days=0, seed=1)
    idx = np.arange(model.population.n)
    nev = model.catalogue.is_nev
    price = model.catalogue.list_price[None, :]
    neutral, no_penalty = np.full(len(idx), 0.5), np.zeros(len(idx))
    largest = -np.inf
    last = (date(2030, 12, 31) - model.first_date).days
    for day in [*range(0, last, 30), last]:
        model.day = day
        model._trends_today()
        context, today = model.journey_context, model.market_day()
        u0 = journey._utility(context, today, idx, price, neutral, no_penalty)
        u1 = journey._utility(context, today, idx, price + 1000.0, neutral, no_penalty)
        largest = max(largest, float(((u1 - u0) / 1000.0)[:, nev].max()))
    assert model.date == date(2030, 12, 31)
    release_model(model)
    return largest


def test_nev_price_coefficient_stays_negative_to_2030() -> None:
    spec = load_scenario()
    assert _nev_price_coefficients_through_2030(spec) < 0
    # also at the top of the calibration's search space and with a very NEV-loving population
    extreme = spec.replace(**{
        "population.nev_wtp_trend_per_year": 0.3,
        "population.phev_wtp_trend_ratio": 3.0,
        "population.nev_wtp_trend_ceiling": 0.9,
        "population.nev_wtp_mean": 0.5,
    })
    assert _nev_price_coefficients_through_2030(extreme) < 0


def test_adoption_path_is_bounded_and_keeps_its_start() -> None:
    spec = load_scenario().population
    shift = np.array([taste_shift(spec, y) for y in (0.0, 0.5, 1.0, 5.0, 50.0)])
    assert np.all(shift[0] == 0)
    assert np.all(shift[:, 2] == 0)  # ICE
    assert np.all(shift[-1, :2] < spec.nev_wtp_trend_ceiling + 1e-12)
    # near the origin it grows at the fitted rate
    assert shift[1, 0] == pytest.approx(0.5 * spec.nev_wtp_trend_per_year, rel=0.05)
    # the soft cap keeps the premium's response to price: strictly increasing, below the maximum
    premium = np.linspace(-0.5, 3.0, 200)
    capped = capped_premium(premium, 0.8)
    assert np.all(np.diff(capped) > 0) and capped.max() < 0.8
    np.testing.assert_array_equal(capped[premium <= 0.4], premium[premium <= 0.4])


def test_ending_the_nev_tax_exemption_in_2028_lowers_nev_share() -> None:
    """The phase-out's 2028 step (exemption 0 from 2028-01-01) against keeping the full exemption.

    The state at 2028 is built cheaply: the run starts on 2028-01-01 after a 240-day warm-up
    (tastes are those of 2028: the trends are anchored to 2023-01-01, not to the start date).
    The first half of 2028 is enough: -4.9 and -4.5 points (seeds 11, 12) against -5.0 and -4.0
    over the whole year, both well past the -2.0 asserted.
    """
    horizon = {"run.start_date": "2028-01-01", "run.warmup_days": 240, "run.days": 182}
    keep = load_scenario().replace(**horizon)
    (end_2028,) = [s for s in _experiment("shock_purchase_tax_phaseout").shocks if s.start == date(2028, 1, 1)]
    phaseout = dataclasses.replace(keep, shocks=(end_2028,))
    diffs = []
    for seed in SEEDS:
        shares = []
        for spec in (phaseout, keep):
            result = run(spec, seed=seed, n_consumers=30_000)
            shares.append(result.kpi("market.nev_share"))
        diffs.append(shares[0] - shares[1])
    assert np.mean(diffs) <= -2.0, diffs
    assert max(diffs) < 0, diffs


@pytest.mark.slow
def test_a_competitor_nev_price_cut_costs_the_focal_firm_nev_sales() -> None:
    horizon = {"run.start_date": "2024-03-01", "run.warmup_days": 200, "run.days": 306}
    cut = _experiment("shock_competitor_price_cut").replace(**horizon)
    base = _without_events(cut)
    for seed in SEEDS:
        focal = []
        for spec in (cut, base):
            model = _run_model(spec, seed, 50_000)
            focal.append(model.recorder.total("deliveries_focal_NEV"))
            release_model(model)
        assert focal[0] < focal[1], (seed, focal)


def _subsidy(end: str | None) -> Scenario:
    spec = load_scenario().replace(**{"run.warmup_days": 200, "run.days": 120})
    # the size of China's 2024 national trade-in subsidy after August (20,000 NEV / 15,000 ICE yuan)
    table = {"name": "subsidy", "kind": "trade_in_subsidy", "start": "2023-01-01", "nev": 20000, "ice": 15000}
    if end is not None:
        table["end"] = end
    return spec.replace(shocks=[table])


@pytest.mark.slow
def test_an_announced_subsidy_end_brings_purchases_forward() -> None:
    """Orders in the six weeks before the subsidy's last day rise, and fall in the six weeks after, against no end."""
    ending, lasting = _subsidy("2023-02-28"), _subsidy(None)
    end = date(2023, 3, 1)
    for seed in SEEDS:
        orders = []
        for spec in (ending, lasting):
            model = _run_model(spec, seed, 100_000)
            daily = model.recorder.daily().set_index("date")["orders"]
            orders.append(daily)
            release_model(model)
        before = slice(pd.Timestamp(end - timedelta(days=42)), pd.Timestamp(end - timedelta(days=1)))
        after = slice(pd.Timestamp(end), pd.Timestamp(end + timedelta(days=41)))
        assert orders[0][before].sum() > orders[1][before].sum(), seed
        assert orders[0][after].sum() < orders[1][after].sum(), seed


def test_a_subsidy_pulls_buyers_into_the_market() -> None:
    with_subsidy, without = _subsidy(None), _without_events(_subsidy(None))
    for seed in SEEDS[:1]:
        entries = []
        for spec in (with_subsidy, without):
            model = _run_model(spec, seed, 20_000)
            entries.append(model.recorder.total("entries"))
            release_model(model)
        assert entries[0] > entries[1]


def test_products_parquet_has_sales_by_product_in_real_units(tmp_path: Path) -> None:
    result = run(n_consumers=5_000, days=60, params={"run.warmup_days": 60})
    folder = result.save(tmp_path)
    table = pd.read_parquet(folder / "products.parquet")
    assert list(table.columns) == ["month", "product", "orders", "deliveries", "revenue", "avg_price"]
    spec = load_scenario()
    assert set(table["product"]) == {p.id for p in spec.products}
    # both in real units (RunResult.daily is scaled, simsales.units)
    assert table["deliveries"].sum() == pytest.approx(result.daily["deliveries"].sum())
    assert table["revenue"].sum() == pytest.approx(result.daily["revenue"].sum())
    sold = table[table["deliveries"] > 0]
    prices = {p.id: p.price for p in spec.products}
    ratio = sold["avg_price"] / sold["product"].map(prices)
    assert ratio.between(0.7, 1.0).all()  # list price less store discounts
    assert isinstance(result, RunResult) and result.products.equals(table)


def test_the_shipped_choice_model_s_product_elasticity_lies_in_the_literature_range() -> None:
    # the nest scale (0.35) makes a car model's own-price elasticity at the decision -2 .. -6.5
    # (BLP 1995, Goldberg 1995) while a plain logit with the same appeals gives less than half of it;
    # the calibration keeps the first in range as a target (pricing.product_price_elasticity)
    spec = load_scenario().replace(**{"run.days": 90, "run.warmup_days": 120})
    shipped = run(spec, seed=SEEDS[0], n_consumers=20_000).kpi("pricing.product_price_elasticity")
    plain = run(spec.replace(**{"journey.product_nest_scale": 1.0}), seed=SEEDS[0], n_consumers=20_000).kpi("pricing.product_price_elasticity")
    assert spec.journey.product_nest_scale < 1.0
    assert -6.5 < shipped < -2.0
    assert shipped < 2.0 * plain < 0.0
