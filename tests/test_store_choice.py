"""Store choice in two stages (cell, then store) draws stores with the one-stage probabilities."""

from __future__ import annotations

import numpy as np
import pytest

from simsales import MarketModel
from simsales.journey import _store_logsums, choose_dealer


def _dense_probabilities(model: MarketModel, idx: np.ndarray, exclude: np.ndarray | None) -> np.ndarray:
    """The store-choice probabilities written out over every store (consumers x stores), as defined."""
    pop, net, j = model.population, model.network, model.spec.journey
    weights = model.dealer_weights[pop.tier[idx]].copy()
    logsums = _store_logsums(model.journey_context, model.market_day(), idx)
    appeal = np.where(np.isneginf(logsums), 0.0, np.exp(j.store_logsum_weight * np.where(np.isneginf(logsums), 0.0, logsums)))
    weights *= appeal[:, model.dealer_price_row]
    prev = pop.prev_group[idx]
    loyal = (net.group[None, :] == prev[:, None]) & (prev[:, None] >= 0)
    weights *= np.where(loyal, np.exp(j.previous_group_loyalty + model.levers.loyalty_shift[None, :]), 1.0)
    if exclude is not None:
        weights[np.arange(len(idx)), exclude] = 0.0
    return weights / weights.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("with_exclusion", [False, True])
def test_two_stage_store_choice_matches_the_one_stage_probabilities(with_exclusion: bool) -> None:
    model = MarketModel(n_consumers=30_000, warmup_days=120, days=1, seed=6)
    for _ in range(120):
        model.step()
    pop = model.population
    idx = np.flatnonzero(~pop.referred)  # referral restriction aside: the cell/store factorisation is the point
    pop.prev_group[idx[::3]] = np.arange(len(idx[::3])) % (int(model.network.group.max()) + 1)  # many loyal consumers
    rng = np.random.default_rng(0)
    exclude = rng.integers(0, model.network.n, len(idx)) if with_exclusion else None
    expected = _dense_probabilities(model, idx, exclude).sum(axis=0)
    counts = np.zeros(model.network.n)
    for day in range(6):  # six independent keyed draws per consumer
        model.day = 200 + day
        chosen = choose_dealer(model.journey_context, model.market_day(), idx, exclude)
        if exclude is not None:
            assert not np.any(chosen == exclude)
        counts += np.bincount(chosen, minlength=model.network.n)
    expected *= 6
    assert counts.sum() == pytest.approx(expected.sum())
    seen = expected > 5
    chi2 = float((((counts - expected) ** 2)[seen] / expected[seen]).sum())
    dof = int(seen.sum()) - 1
    # the 0.9999 quantile of chi-square is below dof + 6 sqrt(2 dof) for these dof
    assert chi2 < dof + 6 * np.sqrt(2 * dof), (chi2, dof)
    assert counts[~seen].sum() <= max(5 * (~seen).sum(), 1) * 3
