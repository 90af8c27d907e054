"""Consumers: attribute distributions follow the population spec; one consumer can be inspected and traced."""

from __future__ import annotations

import numpy as np
import pytest

from simsales.agents.consumers import ConsumerPopulation, State
from simsales.scenario import Scenario
from simsales.scenario.schema import AGE_BANDS, TIERS
from simsales.streams import Streams

N = 100_000


@pytest.fixture(scope="module")
def population(baseline: Scenario) -> ConsumerPopulation:
    return ConsumerPopulation(N, baseline.population, Streams(99), 6, np.array([3.0, 1, 1, 1, 1, 1]))


def close_share(observed: float, p: float, n: int) -> bool:
    """Within 5 binomial standard errors (at n = 100,000 about ±0.008 for p = 0.5)."""
    return abs(observed - p) <= 5 * np.sqrt(p * (1 - p) / n)


def test_everyone_starts_out_of_market(population: ConsumerPopulation) -> None:
    assert np.all(population.state == State.OUT)
    assert population.counts().tolist() == [N] + [0] * (len(State) - 1)


def test_age_and_tier_shares_match_the_spec(population: ConsumerPopulation, baseline: Scenario) -> None:
    spec = baseline.population
    for k, band in enumerate(AGE_BANDS):
        assert close_share((population.age_band == k).mean(), spec.age_shares[band], N), band
    for k, tier in enumerate(TIERS):
        assert close_share((population.tier == k).mean(), spec.tier_shares[tier], N), tier


def test_online_research_by_age(population: ConsumerPopulation, baseline: Scenario) -> None:
    spec = baseline.population
    young = population.young
    assert close_share(population.online[young].mean(), spec.online_research_prob_young, young.sum())
    assert close_share(population.online[~young].mean(), spec.online_research_prob, (~young).sum())


def test_ownership_and_previous_group(population: ConsumerPopulation, baseline: Scenario) -> None:
    spec = baseline.population
    assert close_share(population.owns_car.mean(), spec.owner_share, N)
    owners = population.owns_car
    known = population.prev_group >= 0
    assert not np.any(known & ~owners), "a non-owner has a previous dealer group"
    assert close_share(known[owners].mean(), spec.previous_group_known, owners.sum())
    # group weights 3:1:1:1:1:1 -> group 0 has 3/8 of the known previous cars
    assert close_share((population.prev_group[known] == 0).mean(), 3 / 8, known.sum())


def test_nev_premium_shifts_by_tier_and_age(population: ConsumerPopulation, baseline: Scenario) -> None:
    spec = baseline.population
    wtp, tier, young = population.nev_wtp, population.tier, population.young
    sd = spec.nev_wtp_sd
    cases = (
        ((tier == TIERS.index("tier2")) & ~young, spec.nev_wtp_mean),
        ((tier == TIERS.index("tier1")) & ~young, spec.nev_wtp_mean + spec.nev_wtp_tier1_shift),
        ((tier == TIERS.index("lower")) & young, spec.nev_wtp_mean + spec.nev_wtp_lower_shift + spec.nev_wtp_young_shift),
    )
    for mask, mean in cases:
        n = mask.sum()
        assert abs(wtp[mask].mean() - mean) < 5 * sd / np.sqrt(n)
        assert wtp[mask].std() == pytest.approx(sd, rel=0.05)


def test_price_sensitivity_mean_and_tier_multiplier(population: ConsumerPopulation, baseline: Scenario) -> None:
    spec = baseline.population
    lower = population.tier == TIERS.index("lower")
    sd_log = spec.price_sensitivity_sd
    rel_se = np.sqrt(np.exp(sd_log**2) - 1)  # coefficient of variation of the log-normal factor
    for mask, mean in ((~lower, spec.price_sensitivity), (lower, spec.price_sensitivity * spec.lower_tier_price_mult)):
        n = mask.sum()
        assert population.price_sens[mask].mean() == pytest.approx(mean, rel=5 * rel_se / np.sqrt(n))
    assert np.all(population.price_sens > 0)


def test_consumer_view_matches_the_arrays(population: ConsumerPopulation) -> None:
    i = 1234
    c = population.consumer(i)
    assert c.id == i
    assert c.state == "OUT"
    assert c.age_band == AGE_BANDS[population.age_band[i]]
    assert c.tier == TIERS[population.tier[i]]
    assert c.researches_online == bool(population.online[i])
    assert c.nev_wtp == pytest.approx(float(population.nev_wtp[i]))
    assert c.owns_car == bool(population.owns_car[i])
    assert c.trace == []


def test_log_only_records_tracked_consumers(baseline: Scenario) -> None:
    pop = ConsumerPopulation(10, baseline.population, Streams(0), 2, np.ones(2))
    pop.track([2, 5])
    pop.log(np.array([1, 2, 5]), 7, "enter market")
    pop.log(np.array([5]), 9, "order")
    assert pop.consumer(2).trace == [(7, "enter market")]
    assert pop.consumer(5).trace == [(7, "enter market"), (9, "order")]
    assert pop.consumer(1).trace == []


def test_track_records_each_journey_in_order(make_model) -> None:
    model = make_model(n_consumers=5_000, days=90, warmup_days=90, track=range(5_000))
    model.run_model()
    pop = model.population
    delivered = 0
    for i in range(pop.n):
        trace = pop.consumer(i).trace
        days = [d for d, _ in trace]
        assert days == sorted(days), f"trace of consumer {i} is not in time order"
        events = [e for _, e in trace]
        if events and events[-1] == "order":
            assert pop.state[i] == State.ORDERED
        if events and events[-1] == "delivery":
            assert pop.state[i] == State.OWNER
        if "delivery" in events:
            delivered += 1
            k = events.index("delivery")
            assert "order" in events[:k], f"consumer {i} took delivery without an order"
    assert delivered > 0
    # a tracked consumer's snapshot shows the state the arrays hold
    owner = int(np.flatnonzero(pop.state == State.OWNER)[0])
    snap = pop.consumer(owner)
    assert snap.state == "OWNER" and snap.product >= 0 and 0 <= snap.satisfaction <= 100


def test_attributes_do_not_depend_on_the_construction_batch(baseline: Scenario, monkeypatch: pytest.MonkeyPatch) -> None:
    """Attributes are drawn in batches to bound temporaries: any batch size gives the same consumers."""
    from simsales.agents import consumers

    whole = ConsumerPopulation(5_000, baseline.population, Streams(7), 6, np.array([3.0, 1, 1, 1, 1, 1]))
    monkeypatch.setattr(consumers, "BUILD_BATCH", 777)
    batched = ConsumerPopulation(5_000, baseline.population, Streams(7), 6, np.array([3.0, 1, 1, 1, 1, 1]))
    for name in ("age_band", "tier", "online", "nev_wtp", "price_sens", "owns_car", "entry_class", "prev_group"):
        np.testing.assert_array_equal(getattr(whole, name), getattr(batched, name), err_msg=name)


def test_day_fields_are_as_narrow_as_the_horizon_allows(baseline: Scenario) -> None:
    from simsales.agents.consumers import day_dtype

    assert day_dtype(910) == np.int16
    assert day_dtype(2 * 36_500) == np.int32  # the schema's longest warm-up plus recorded horizon
    pop = ConsumerPopulation(10, baseline.population, Streams(0), 2, np.ones(2), horizon_days=910)
    assert pop.next_day.dtype == np.int16 and np.all(pop.next_day == pop.no_day) and pop.no_day > 910
    long_run = ConsumerPopulation(10, baseline.population, Streams(0), 2, np.ones(2), horizon_days=40_000)
    assert long_run.entry_day.dtype == np.int32 and long_run.no_day > 40_000


def test_entry_rate_table_gives_each_consumer_its_rate(make_model) -> None:
    """The looked-up rate equals the per-consumer formula on the attributes at the start."""
    model = make_model(n_consumers=3_000, days=30, warmup_days=0)
    spec, pop = model.spec.population, model.population
    expected = np.where(pop.owned_at_start, spec.entry_rate_owner, spec.entry_rate_nonowner)
    expected = expected * np.where(pop.young, spec.young_entry_mult, 1.0)
    expected = np.maximum(expected * np.where(pop.tier == TIERS.index("lower"), spec.lower_tier_entry_mult, 1.0), 1e-9)
    np.testing.assert_array_equal(model.entry_rate(np.arange(pop.n)), expected)
    assert len(np.unique(expected)) > 2  # the test sees several classes
