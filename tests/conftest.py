"""Shared fixtures: the shipped baseline scenario and small, seeded models.

Models here are deliberately small (thousands of consumers, weeks to months of days) so the
whole suite stays fast on a shared 2-core machine; full-size runs belong to benchmarks/.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from simsales import MarketModel, Scenario, load_scenario

#: Size of a "small" model: big enough for every dealer format to exist, small enough to run in ~0.5 s.
SMALL: dict[str, Any] = {"n_consumers": 5_000, "days": 60, "warmup_days": 60}


@pytest.fixture(scope="session")
def baseline() -> Scenario:
    """The shipped 2023 baseline scenario (loaded once; scenarios are frozen)."""
    return load_scenario()


@pytest.fixture
def make_model(baseline: Scenario) -> Callable[..., MarketModel]:
    """Factory for small seeded models; keyword arguments override SMALL and the seed."""

    def make(**kwargs: Any) -> MarketModel:
        args = {**SMALL, "seed": 7, **kwargs}
        return MarketModel(scenario=args.pop("scenario", baseline), **args)

    return make


@pytest.fixture(scope="session")
def finished_model(baseline: Scenario) -> MarketModel:
    """One finished half-year run shared by read-only tests (do not step or mutate it)."""
    model = MarketModel(scenario=baseline, n_consumers=20_000, days=180, warmup_days=90, seed=11)
    model.run_model()
    return model
