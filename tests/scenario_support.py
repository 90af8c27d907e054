"""Helpers shared by the timeline tests (shocks, strategies, risk plans): small scenarios with events,
paired models stepped to an event's start, and pooled outputs over seeded replicates.

Models are small (a few thousand to 20,000 consumers, 60 warm-up days, a few months) so that the
timeline tests together stay well under two minutes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import cache
from typing import Any

import numpy as np

from simsales import MarketModel
from simsales.scenario import Scenario, load_scenario
from simsales.scenario.loader import build_scenario

START = date(2023, 1, 1)  # run.start_date of the test scenarios
EVENT_DAY = "2023-01-15"  # events in the outcome tests start here
SEEDS = (1, 2, 3)
OUTCOME_SIZE = {"n_consumers": 20_000, "warmup_days": 60, "days": 120}


@cache
def _base() -> Scenario:
    return load_scenario()


def scenario(
    shocks: Sequence[dict[str, Any]] = (),
    strategies: Sequence[dict[str, Any]] = (),
    risk_rules: Sequence[dict[str, Any]] = (),
    n_consumers: int = 20_000,
    warmup_days: int = 60,
    days: int = 120,
    start_date: str = START.isoformat(),
    **params: Any,
) -> Scenario:
    """The shipped baseline, small, starting 2023-01-01, with these events (TOML-shaped tables);
    `params` are further dotted overrides such as {"salesforce.hire_prob_month": 0.5}."""
    raw = _base().to_dict()
    raw["run"].update(n_consumers=n_consumers, warmup_days=warmup_days, days=days, start_date=start_date)
    raw["shocks"], raw["strategies"], raw["risk_rules"] = list(shocks), list(strategies), list(risk_rules)
    built = build_scenario(raw, "test")
    return built.replace(**params) if params else built


def run(spec: Scenario, seed: int) -> MarketModel:
    """A finished model."""
    model = MarketModel(scenario=spec, seed=seed)
    model.run_model()
    return model


@cache
def baseline_run(seed: int, n_consumers: int = 20_000, warmup_days: int = 60, days: int = 120) -> MarketModel:
    """The event-free run of the outcome tests (cached: read it, do not step it)."""
    return run(scenario(n_consumers=n_consumers, warmup_days=warmup_days, days=days), seed)


def total(model: MarketModel, *flows: str) -> float:
    """Sum of flows over the recorded window."""
    return float(sum(model.recorder.window(f).sum() for f in flows))


def pooled(models: Sequence[MarketModel], numerator: Sequence[str], denominator: Sequence[str]) -> float:
    """A ratio of flows pooled over replicates (sum of numerators over sum of denominators)."""
    num = sum(total(m, *numerator) for m in models)
    den = sum(total(m, *denominator) for m in models)
    return num / den


def outcome(shocks: Sequence[dict[str, Any]] = (), strategies: Sequence[dict[str, Any]] = (), **params: Any) -> tuple[list[MarketModel], list[MarketModel]]:
    """Baseline and treated runs for every seed in SEEDS (same size, same seeds)."""
    spec = scenario(shocks, strategies, **params)
    base = [baseline_run(s) if not params else run(scenario(**params), s) for s in SEEDS]
    return base, [run(spec, s) for s in SEEDS]


def paired(
    shocks: Sequence[dict[str, Any]] = (),
    strategies: Sequence[dict[str, Any]] = (),
    on: str = EVENT_DAY,
    seed: int = 5,
    n_consumers: int = 4_000,
    **params: Any,
) -> tuple[MarketModel, MarketModel]:
    """Baseline and treated models stepped through the day `on` (their event's first day).

    Until an event starts both models are the same model, so on its first day every difference
    between them is the event's levers and nothing else: a noise-free view of the mechanism.
    """
    size = {"n_consumers": n_consumers, "warmup_days": 60, "days": 90}
    # consumers foresee announced policy changes (anticipation) and would act before the event
    # starts; this first-day view of the mechanism switches that off (tests/test_responses_demand.py tests it)
    params = {"population.anticipation_days": 0, **params}
    base = MarketModel(scenario=scenario(**size, **params), seed=seed)
    treated = MarketModel(scenario=scenario(shocks, strategies, **size, **params), seed=seed)
    target = date.fromisoformat(on)
    for model in (base, treated):
        while model.date < target and model.running:
            model.step()
    assert np.array_equal(base.population.state, treated.population.state), "models diverged before the event"
    for model in (base, treated):  # the event's first day: its levers are set at the start of the day
        model.step()
    return base, treated


def choice_probabilities(model: MarketModel, n: int = 3_000) -> tuple[np.ndarray, np.ndarray]:
    """Logit probabilities (consumers x products, and of leaving) for the first n consumers placed
    at stores round-robin, served by a salesperson of knowledge 0.5 with no penalties."""
    from simsales import journey
    from simsales.market.choice import logit_probabilities

    idx = np.arange(n)
    pop, net = model.population, model.network
    pop.dealer[idx] = idx % net.n
    utility = journey.product_utility(model.journey_context, model.market_day(), idx, np.full(n, 0.5), np.zeros(n))
    outside = model.spec.journey.outside_utility + model.levers.outside_utility_shift[pop.dealer[idx]]
    probs = logit_probabilities(utility, net.sells[pop.dealer[idx]], outside)
    return probs[:, :-1], probs[:, -1]


def nev_probability(model: MarketModel, n: int = 3_000) -> np.ndarray:
    """Each placed consumer's probability of choosing an NEV."""
    products, _ = choice_probabilities(model, n)
    return products[:, model.catalogue.is_nev].sum(axis=1)
