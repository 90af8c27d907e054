"""Discrete choice: the categorical draw and the multinomial logit with an outside option."""

from __future__ import annotations

import numpy as np
import pytest

from simsales.market.choice import (
    choose_by_weights,
    inclusive_value,
    logit_choice,
    logit_probabilities,
    nested_logit_choice,
    price_response,
)

N_DRAWS = 200_000


def binomial_tolerance(p: np.ndarray, n: int, sigmas: float = 5.0) -> np.ndarray:
    """Allowed gap between an empirical frequency and p: `sigmas` binomial standard errors."""
    return sigmas * np.sqrt(p * (1 - p) / n) + 1e-12


def test_choose_by_weights_picks_the_only_positive_column() -> None:
    weights = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 2.0], [0.0, 5.0, 0.0]])
    for u in (0.0, 0.3, 0.999999):
        assert choose_by_weights(weights, np.full(3, u)).tolist() == [0, 2, 1]


def test_choose_by_weights_never_picks_a_zero_weight_column() -> None:
    weights = np.tile([0.0, 1.0, 1.0, 0.0], (1_000, 1))
    choice = choose_by_weights(weights, np.linspace(0.0, 0.9999, 1_000))
    assert set(np.unique(choice)) == {1, 2}


def test_a_weight_change_moves_choosers_only_into_the_changed_column() -> None:
    """Paired draws: raising column 1's weight moves choosers into column 1 and nowhere else.

    With an inverse CDF on one uniform, choosers near the boundaries of columns 2 and 3 would
    also switch between them (noise a paired comparison would read as an effect)."""
    u = np.random.default_rng(5).random(N_DRAWS)
    before = choose_by_weights(np.tile([1.0, 2.0, 3.0, 4.0], (N_DRAWS, 1)), u)
    after = choose_by_weights(np.tile([1.0, 2.2, 3.0, 4.0], (N_DRAWS, 1)), u)
    moved = before != after
    assert moved.sum() > 0.01 * N_DRAWS
    assert np.all(after[moved] == 1)


def test_a_cheaper_product_takes_choosers_only_from_others() -> None:
    """A higher utility of product 0 moves choosers into product 0 only, never between the rest or
    between a product and the outside option."""
    u = np.random.default_rng(9).random(N_DRAWS)
    utility = np.tile([0.5, 1.5, -0.5], (N_DRAWS, 1))
    available = np.ones((N_DRAWS, 3), bool)
    outside = np.full(N_DRAWS, 1.0)
    before = logit_choice(utility, available, outside, u)
    utility[:, 0] += 0.01
    after = logit_choice(utility, available, outside, u)
    moved = before != after
    assert 0 < moved.sum() < 0.01 * N_DRAWS
    assert np.all(after[moved] == 0)


def test_choose_by_weights_frequencies_match_weights() -> None:
    rng = np.random.default_rng(123)
    w = np.array([1.0, 2.0, 3.0, 4.0])
    choice = choose_by_weights(np.tile(w, (N_DRAWS, 1)), rng.random(N_DRAWS))
    freq = np.bincount(choice, minlength=4) / N_DRAWS
    p = w / w.sum()
    assert np.all(np.abs(freq - p) < binomial_tolerance(p, N_DRAWS))


def test_logit_probabilities_are_softmax_with_outside_option() -> None:
    utility = np.array([[1.0, 2.0, 0.5], [0.0, 0.0, 0.0]])
    available = np.array([[True, True, False], [True, True, True]])
    outside = np.array([1.0, -1.0])
    probs = logit_probabilities(utility, available, outside)
    assert probs.shape == (2, 4)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    assert probs[0, 2] == 0.0  # unavailable
    expected = np.exp([1.0, 2.0, 1.0]) / np.exp([1.0, 2.0, 1.0]).sum()
    np.testing.assert_allclose(probs[0, [0, 1, 3]], expected)
    # odds between two alternatives depend only on their utility difference (IIA)
    assert probs[0, 1] / probs[0, 0] == pytest.approx(np.exp(1.0))


def test_logit_is_overflow_safe() -> None:
    utility = np.array([[1000.0, 999.0]])
    probs = logit_probabilities(utility, np.ones((1, 2), bool), np.array([0.0]))
    assert np.all(np.isfinite(probs))
    assert probs[0, 0] / probs[0, 1] == pytest.approx(np.e)
    assert probs[0, 2] == pytest.approx(0.0, abs=1e-300)


def test_logit_choice_frequencies_match_probabilities() -> None:
    rng = np.random.default_rng(2023)
    utility = np.tile([0.5, 1.5, -0.5, 2.0], (N_DRAWS, 1))
    available = np.tile([True, True, True, False], (N_DRAWS, 1))
    outside = np.full(N_DRAWS, 1.0)
    choice = logit_choice(utility, available, outside, rng.random(N_DRAWS))
    assert set(np.unique(choice)) <= {-1, 0, 1, 2}
    assert not np.any(choice == 3), "an unavailable product was chosen"
    p = logit_probabilities(utility[:1], available[:1], outside[:1])[0]  # columns 0..3, outside last
    freq = np.array([(choice == k).mean() for k in (0, 1, 2, 3, -1)])
    assert np.all(np.abs(freq - p) < binomial_tolerance(p, N_DRAWS))


def test_logit_choice_outside_only_when_nothing_available() -> None:
    utility = np.zeros((5, 3))
    choice = logit_choice(utility, np.zeros((5, 3), bool), np.zeros(5), np.linspace(0, 0.99, 5))
    assert choice.tolist() == [-1] * 5


def test_nested_logit_frequencies_match_the_nested_probabilities() -> None:
    # P(j) = P(buy) x softmax(V / scale)_j, P(buy) = logit(scale x logsumexp(V / scale) - outside)
    rng = np.random.default_rng(7)
    scale = 0.4
    v = np.array([0.5, 1.5, -0.5, 2.0])
    utility = np.tile(v, (N_DRAWS, 1))
    available = np.tile([True, True, True, False], (N_DRAWS, 1))
    choice = nested_logit_choice(utility, available, np.full(N_DRAWS, 1.0), rng.random(N_DRAWS), scale)
    assert not np.any(choice == 3), "an unavailable product was chosen"
    within = np.exp(v[:3] / scale) / np.exp(v[:3] / scale).sum()
    iv = inclusive_value(v[None, :3], np.ones((1, 3), bool), scale)[0]
    assert iv == pytest.approx(np.log(np.exp(v[:3] / scale).sum()))
    buy = 1.0 / (1.0 + np.exp(1.0 - scale * iv))
    p = np.append(buy * within, 1.0 - buy)
    freq = np.array([(choice == k).mean() for k in (0, 1, 2, -1)])
    assert np.all(np.abs(freq - p) < binomial_tolerance(p, N_DRAWS))


def test_a_nest_scale_below_one_makes_products_closer_substitutes_than_leaving() -> None:
    # the same 5% price rise on one product: with a nest its buyers move to the other products far
    # more than out of the market, and its own choice elasticity is larger than the plain logit's
    rng = np.random.default_rng(11)
    u = rng.random(N_DRAWS)
    v = np.tile([1.0, 1.0, 1.0], (N_DRAWS, 1))
    raised = v - np.array([0.05, 0.0, 0.0])
    available = np.ones_like(v, dtype=bool)
    outside = np.full(N_DRAWS, 1.5)
    own = {}
    for scale in (1.0, 0.4):
        before = nested_logit_choice(v, available, outside, u, scale)
        after = nested_logit_choice(raised, available, outside, u, scale)
        own[scale] = (after == 0).sum() / (before == 0).sum() - 1.0
        left = (before == 0) & (after == -1)
        switched = (before == 0) & (after > 0)
        # choosers of other products never switch product; marginal buyers may leave as the nest's value falls
        assert not np.any((before > 0) & (after != before) & (after != -1))
        assert not np.any((before == -1) & (after != -1))
        if scale < 1.0:
            assert switched.sum() > 3 * left.sum()
    assert own[0.4] < 1.5 * own[1.0] < 0


def test_a_nest_scale_of_one_is_the_plain_logit_draw_for_draw() -> None:
    rng = np.random.default_rng(3)
    utility = rng.normal(size=(1000, 4))
    available = rng.random((1000, 4)) < 0.8
    u, outside = rng.random(1000), rng.normal(size=1000)
    assert np.array_equal(nested_logit_choice(utility, available, outside, u, 1.0), logit_choice(utility, available, outside, u))


def _nested_probabilities(utility: np.ndarray, available: np.ndarray, outside: np.ndarray, scale: float) -> np.ndarray:
    """P(buy j) of the nested logit from its definition (the test's own formula)."""
    within = np.where(available, np.exp(utility / scale), 0.0)
    iv = np.log(within.sum(axis=1))
    buy = 1.0 / (1.0 + np.exp(outside - scale * iv))
    return within / within.sum(axis=1, keepdims=True) * buy[:, None]


@pytest.mark.parametrize("scale", [1.0, 0.35])
def test_price_response_matches_finite_differences_of_the_nested_probabilities(scale: float) -> None:
    # a probability times its elasticity is d P / d ln p, so the sums over choosers must equal the
    # change in expected purchases when product j's price (or every price) rises by a relative 1e-6:
    # the analytic formulas the calibration's elasticity KPI is built on
    rng = np.random.default_rng(5)
    k, m, h = 6, 4, 1e-6
    utility = rng.normal(size=(k, m))
    available = rng.random((k, m)) < 0.8
    available[:, 0] = True
    outside = rng.normal(size=k)
    price_utility = rng.uniform(0.5, 4.0, size=(k, m))  # beta x price
    bought, own, buy, market = price_response(utility, available, outside, scale, price_utility)
    base = _nested_probabilities(utility, available, outside, scale)
    assert np.allclose(bought, base.sum(axis=0)) and buy == pytest.approx(base.sum())
    for j in range(m):
        bumped = utility.copy()
        bumped[:, j] -= price_utility[:, j] * np.log1p(h)
        numeric = (_nested_probabilities(bumped, available, outside, scale)[:, j].sum() - base[:, j].sum()) / np.log1p(h)
        assert own[j] == pytest.approx(numeric, rel=1e-4, abs=1e-9)
    everything = utility - price_utility * np.log1p(h)
    numeric = (_nested_probabilities(everything, available, outside, scale).sum() - base.sum()) / np.log1p(h)
    assert market == pytest.approx(numeric, rel=1e-4)


def test_a_smaller_nest_scale_raises_product_elasticities() -> None:
    rng = np.random.default_rng(9)
    utility = rng.normal(size=(500, 5))
    available = np.ones((500, 5), dtype=bool)
    outside = np.full(500, 1.0)
    price_utility = np.full((500, 5), 2.0)
    plain = price_response(utility, available, outside, 1.0, price_utility)
    nested = price_response(utility * 0.35, available, outside, 0.35, price_utility)  # same within-nest shares
    weighted = [own.sum() / bought.sum() for bought, own, _, _ in (plain, nested)]
    assert weighted[1] < 2.0 * weighted[0] < 0


def test_nest_equivalent_appeals_keep_the_mean_consumer_s_ranking() -> None:
    from simsales.market.catalogue import nest_equivalent_appeal

    appeal, price, beta, scale = np.array([-0.4, 0.75, 2.5, 3.6]), np.array([1e5, 1.8e5, 3e5, 4e5]), 1.165e-5, 0.35
    assert np.array_equal(nest_equivalent_appeal(appeal, price, 1.0, beta), appeal)
    nested = nest_equivalent_appeal(appeal, price, scale, beta)
    # within the nest (utility / scale) the mean consumer's values differ from the plain logit's by a constant
    assert np.allclose((nested - beta * price) / scale - (appeal - beta * price), 0.0)


def test_the_products_file_s_mean_price_coefficient_is_the_shipped_population_s() -> None:
    # agents/products_2023.toml converted its plain-logit appeals with 1.165 per 100,000 yuan; if the
    # population's price sensitivity or lower-tier mix changes, those appeals must be converted again
    from simsales.agents.consumers import mean_price_coefficient
    from simsales.scenario import load_scenario

    spec = load_scenario()
    assert mean_price_coefficient(spec.population) == pytest.approx(1.165e-5, rel=1e-9)
    assert spec.journey.product_nest_scale == pytest.approx(0.35)
