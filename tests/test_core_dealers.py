"""Dealers: allocation of formats, FIFO stock by age, ageing, arrivals, ordering and markdowns."""

from __future__ import annotations

import numpy as np
import pytest

from simsales.agents.dealers import MAX_AGE_DAYS, PIPELINE_DAYS, Network, allocate, response_spread, store_layout
from simsales.market.catalogue import Catalogue
from simsales.scenario import Scenario
from simsales.streams import Streams


@pytest.fixture
def network(baseline: Scenario) -> Network:
    """30 stores of the baseline network with empty stock."""
    return Network(baseline.network, Catalogue.from_products(baseline.products), 30)


def test_allocate_uses_largest_remainder() -> None:
    counts = allocate(10, np.array([0.45, 0.363, 0.187, 0.0]))
    # exact shares 4.5, 3.63, 1.87, 0: floors 4, 3, 1; the two largest remainders (.87, .63) get the rest
    assert counts.tolist() == [4, 4, 2, 0]


def test_store_layout_is_stratified_and_needs_no_randomness() -> None:
    formats, tiers = np.array([0.45, 0.363, 0.187]), np.array([0.17, 0.40, 0.43])
    fmt, tier, group = store_layout(30, formats, tiers, 0.15, 6)
    again = store_layout(30, formats, tiers, 0.15, 6)
    assert all(np.array_equal(a, b) for a, b in zip((fmt, tier, group), again, strict=True))
    assert np.bincount(fmt).tolist() == allocate(30, formats).tolist()
    assert np.bincount(tier).tolist() == allocate(30, tiers).tolist()
    focal = group == 0
    assert focal.sum() == round(0.15 * 30)
    # the focal firm holds every format, and tiers are not bunched in one format
    assert set(fmt[focal]) == {0, 1, 2}
    for f in range(3):
        assert len(set(tier[fmt == f])) == 3
    assert set(group[~focal]) == {1, 2, 3, 4, 5}


def test_network_matches_its_spec(network: Network, baseline: Scenario) -> None:
    spec = baseline.network
    assert network.n == 30
    assert (network.group == 0).sum() == max(1, round(spec.focal_store_share * 30))
    assert np.array_equal(network.focal, network.group == 0)
    # every store sells exactly the products of its format, and formats with share 0 are absent
    ids = [p.id for p in baseline.products]
    for d in range(network.n):
        fmt = spec.formats[network.fmt[d]]
        assert fmt.share > 0
        assert {ids[p] for p in np.flatnonzero(network.sells[d])} == set(fmt.products)


def put(network: Network, d: int, p: int, age: int, units: int) -> None:
    network.stock[d, p, age] += units


def test_take_is_fifo_oldest_first(network: Network) -> None:
    put(network, 0, 1, 5, 2)
    put(network, 0, 1, 50, 3)
    units = np.zeros((network.n, network.stock.shape[1]), dtype=np.int64)
    units[0, 1] = 4
    taken, age_sum = network.take(units)
    assert taken[0, 1] == 4
    assert age_sum[0, 1] == 3 * 50 + 1 * 5  # all three 50-day-old units go first
    assert network.stock[0, 1, 50] == 0
    assert network.stock[0, 1, 5] == 1
    assert taken.sum() == 4


def test_take_never_makes_stock_negative(network: Network) -> None:
    put(network, 2, 0, 10, 5)
    units = np.zeros((network.n, network.stock.shape[1]), dtype=np.int64)
    units[2, 0] = 10
    units[3, 4] = 7  # store without any stock
    taken, _ = network.take(units)
    assert taken[2, 0] == 5 and taken[3, 4] == 0
    assert network.stock.min() >= 0
    assert network.stock_total()[2, 0] == 0


def test_take_random_property(network: Network) -> None:
    """For random stock and requests: take min(request, stock), and never leave an older unit behind."""
    rng = np.random.default_rng(42)
    network.stock[:] = rng.poisson(0.05, network.stock.shape)
    before = network.stock.copy()
    units = rng.integers(0, 30, network.stock.shape[:2])
    taken, age_sum = network.take(units)
    total_before = before.sum(axis=2)
    assert np.array_equal(taken, np.minimum(units, total_before))
    assert network.stock.min() >= 0
    removed = before - network.stock
    assert removed.min() >= 0
    ages = np.arange(MAX_AGE_DAYS)
    assert np.array_equal(age_sum, (removed * ages).sum(axis=2))
    for d, p in zip(*np.nonzero(taken), strict=False):
        left = np.flatnonzero(network.stock[d, p])
        gone = np.flatnonzero(removed[d, p])
        if len(left):
            assert left.max() <= gone.min(), "a newer unit was sold while an older one stayed"


def test_age_one_day_shifts_and_keeps_the_oldest(network: Network) -> None:
    put(network, 0, 0, 0, 3)
    put(network, 0, 0, MAX_AGE_DAYS - 2, 2)
    put(network, 0, 0, MAX_AGE_DAYS - 1, 1)
    total = network.stock.sum()
    network.age_one_day()
    assert network.stock[0, 0, 1] == 3
    assert network.stock[0, 0, 0] == 0
    assert network.stock[0, 0, MAX_AGE_DAYS - 1] == 3  # 1 already there + 2 that reached it
    assert network.stock.sum() == total


def test_receive_moves_todays_pipeline_into_new_stock(network: Network) -> None:
    day = PIPELINE_DAYS + 7  # ring buffer wraps
    network.pipeline[day % PIPELINE_DAYS, 4, 2] = 6
    network.pipeline[(day + 1) % PIPELINE_DAYS, 4, 2] = 9
    arrived = network.receive(day)
    assert arrived[4, 2] == 6 and arrived.sum() == 6
    assert network.stock[4, 2, 0] == 6
    assert network.pipeline[day % PIPELINE_DAYS].sum() == 0
    assert network.pipeline_total()[4, 2] == 9


def test_stochastic_rounding_orders_the_target_on_average(network: Network) -> None:
    network.forecast = np.where(network.sells, 0.004, 0.0)  # a car every 250 days: target well below one unit
    target = network.target_stock()[network.sells]
    assert target.max() < 1.0
    streams = Streams(7)
    orders = []
    for day in range(10, 410):  # one keyed uniform per cell and day
        network.pipeline[:] = 0  # each draw from the same empty position
        orders.append(network.order(day=day, streams=streams)[network.sells])
    # 400 Bernoulli(target) draws per cell: standard error <= 0.025; rint would give 0 or 1 instead
    np.testing.assert_allclose(np.mean(orders, axis=0), target, atol=0.1)


def test_order_arrives_after_the_lead_time(network: Network) -> None:
    network.forecast = np.where(network.sells, 2.0, 0.0)  # two units a day of everything sold
    ordered = network.order(day=10)
    assert ordered.sum() > 0
    assert np.all(ordered[~network.sells] == 0), "ordered a product the store does not sell"
    np.testing.assert_allclose(ordered, np.rint(network.target_stock()) * network.sells)
    assert np.array_equal(network.pipeline_total(), ordered)
    # order-up-to: a second order the same day adds nothing (pipeline counts as position)
    assert network.order(day=10).sum() == 0
    lead = np.maximum(network.replenish_days, 1)
    for day in range(11, 10 + lead.max() + 1):
        arrived = network.receive(day)
        due = (10 + lead) == day
        assert np.array_equal(arrived[~due], np.zeros_like(arrived[~due]))
        assert np.array_equal(arrived[due], ordered[due])
    assert network.pipeline_total().sum() == 0
    assert np.array_equal(network.stock_total(), ordered)


def test_start_stock_reaches_target(network: Network) -> None:
    daily = np.full(network.sells.shape, 0.7)
    network.start_stock(daily)
    assert np.array_equal(network.stock_total(), np.rint(network.target_stock()).astype(int))
    assert network.stock.min() >= 0


def test_update_prices_marks_down_only_aged_stock(network: Network) -> None:
    d = int(np.flatnonzero(network.markdown > 0)[0])
    p_old, p_new = np.flatnonzero(network.sells[d])[:2]
    age = int(network.markdown_age_days[d])
    put(network, d, p_old, age, 1)  # exactly at the markdown age
    put(network, d, p_new, age - 1, 5)  # one day too young
    network.update_prices()
    expected = np.repeat(network.base_discount[:, None], network.stock.shape[1], axis=1)
    expected[d, p_old] += network.markdown[d]
    np.testing.assert_allclose(network.discount, expected)
    # selling the aged unit removes the markdown the next day
    units = np.zeros(network.stock.shape[:2], dtype=np.int64)
    units[d, p_old] = 1
    network.take(units)
    network.update_prices()
    assert network.discount[d, p_old] == pytest.approx(network.base_discount[d])


def test_markdown_is_in_proportion_to_the_aged_units(network: Network) -> None:
    """A store agent stands for many outlets: one aged unit in four marks a quarter of the units down,
    so one unit crossing the age moves the price a step, not by the whole markdown."""
    d = int(np.flatnonzero(network.markdown > 0)[0])
    p = int(np.flatnonzero(network.sells[d])[0])
    age = int(network.markdown_age_days[d])
    put(network, d, p, age + 3, 1)
    put(network, d, p, 5, 3)
    network.update_prices()
    assert network.discount[d, p] == pytest.approx(network.base_discount[d] + 0.25 * network.markdown[d])


def test_update_forecast_smooths_and_resets(network: Network) -> None:
    network.demand_today[:] = np.where(network.sells, 10.0, 3.0)
    network.update_forecast(0.1)
    np.testing.assert_allclose(network.forecast, np.where(network.sells, 1.0, 0.0))
    assert network.demand_today.sum() == 0


def test_dealer_agents_read_the_network(make_model) -> None:
    model = make_model(days=5, warmup_days=5)
    dealer = model.dealers[0]
    assert dealer.format == model.network.formats[model.network.fmt[0]].name
    assert dealer.is_focal == bool(model.network.group[0] == 0)
    assert sum(dealer.stock.values()) == model.network.stock_total()[0].sum()
    assert {s.dealer for s in dealer.salespeople} <= {0}


def test_response_spread_is_a_mean_one_lognormal_within_each_format() -> None:
    fmt = np.repeat([0, 1, 2], [40, 30, 7])
    factor = response_spread(fmt, 0.8)
    for f in range(3):  # each format keeps its mean response time
        assert factor[fmt == f].mean() == pytest.approx(1.0, rel=1e-12)
    assert np.array_equal(factor, response_spread(fmt, 0.8))  # no randomness
    assert np.array_equal(response_spread(fmt, 0.0), np.ones(len(fmt)))  # 0: every store at its format's time
    # with many stores the factors are the log-normal's quantiles: log-sd sigma
    assert np.log(response_spread(np.zeros(2000, dtype=int), 0.8)).std() == pytest.approx(0.8, rel=0.02)


def test_slow_stores_convert_fewer_online_leads(make_model) -> None:
    """With response times spread, a format's slower stores lose more leads: lower online conversion."""
    # 80,000 consumers over a year: about 355 online leads per ICE store, so the binomial sd of the
    # difference between the slower and faster half is about 1.1 pp; seeds 7-9 give 4.5-5.2 pp
    model = make_model(n_consumers=80_000, days=365, warmup_days=60, params={"network.response_dispersion": 1.2})
    model.run_model()
    net, rec = model.network, model.recorder
    ice = (net.fmt == 0) & (rec.dealer_online_leads > 0)
    conv = rec.dealer_online_orders[ice] / rec.dealer_online_leads[ice]
    slow = net.response_minutes[ice] > np.median(net.response_minutes[ice])
    assert net.response_minutes[ice].max() > 4 * net.response_minutes[ice].min()
    assert conv[slow].mean() < conv[~slow].mean() - 0.02
