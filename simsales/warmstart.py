"""Warm starts: scenarios that are the same until their first event share one warm-up.

Why: every arm and replicate of an experiment simulates the same 545 warm-up days (and often
months of the recorded window) before its first shock, strategy or risk rule can act.  Those
days do not depend on the arm: with random numbers keyed by (seed, purpose, entity, day) a run
before its first event equals the run of its event-free twin, day for day.  So the twin is run
once per seed up to the earliest first-event day of the arms (`EventPlan.first_effect_day`), saved
as a snapshot, and each arm continues from it with its own events (`Timeline.take_over`).  Results
are identical to cold starts (tests/test_warmstart.py); only the time differs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

from simsales.events import EventPlan, Timeline
from simsales.market.anticipation import Anticipation
from simsales.model import MarketModel
from simsales.scenario import Scenario


def event_free(spec: Scenario) -> Scenario:
    """The scenario without its shocks, strategies and risk rules (and without name or description)."""
    return dataclasses.replace(spec, name="warm-up", description="", shocks=(), strategies=(), risk_rules=())


def first_effect_day(spec: Scenario) -> int:
    """The first day (0 = first warm-up day) on which `spec`'s events can act."""
    return EventPlan.of(spec).first_effect_day()


def shared_warmup(specs: Sequence[Scenario]) -> tuple[Scenario, int] | None:
    """The event-free twin all `specs` share and the last day they agree on, or None.

    None when the scenarios differ in anything but their events (population, prices, size,
    calendar ...) or when one of them acts from day 0: then there is nothing to share.
    """
    if not specs:
        return None
    twin = event_free(specs[0])
    if any(event_free(spec) != twin for spec in specs[1:]):
        return None
    day = min(first_effect_day(spec) for spec in specs)
    return (twin, day) if day > 0 else None


def warm_up(twin: Scenario, seed: int, day: int, path: str | Path) -> Path:
    """Run the event-free twin with `seed` for `day` days and save the snapshot to `path`."""
    model = MarketModel(scenario=twin, seed=seed)
    try:
        while model.day < day:
            model.step()
        return model.snapshot(path)
    finally:
        from simsales.run import release_model

        release_model(model)


def continue_from(path: str | Path, spec: Scenario) -> MarketModel:
    """A model for `spec` restored from a warm-up snapshot, ready to run on with `spec`'s events."""
    model = MarketModel.restore(path)
    if event_free(spec) != event_free(model.spec):
        raise ValueError(f"{path}: the warm-up is of another scenario than {spec.name!r} (they differ beyond their events)")
    model.spec = spec
    Timeline.take_over(EventPlan.of(spec), model)
    model.anticipation = Anticipation(model)  # the arm's announced policy schedule, not the twin's
    return model
