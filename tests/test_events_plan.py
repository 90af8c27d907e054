"""The event plan: what follows from a scenario alone, without a model (simsales.events.plan)."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest

from simsales.events import EventPlan
from simsales.scenario import load_scenario


def walked_month_bounds(first_date: date, total_days: int) -> list[tuple[int, int | None]]:
    """Month bounds as a run keeps them day by day: 0 / None at first, shifted after each month's last day."""
    start, prev, out = 0, None, []
    for day in range(total_days):
        out.append((start, prev))
        if (first_date + timedelta(days=day + 1)).day == 1:
            prev, start = start, day + 1
    return out


@pytest.mark.parametrize(("start_date", "warmup_days"), [("2023-01-01", 545), ("2023-03-01", 59), ("2023-01-17", 0)])
def test_month_bounds_follow_from_the_day(start_date: str, warmup_days: int) -> None:
    """Risk rules' month bounds are a function of the day, so a timeline taking over a warm-up carries nothing over."""
    spec = load_scenario(overrides={"run.start_date": start_date, "run.warmup_days": warmup_days, "run.days": 400})
    plan = EventPlan.of(spec)
    expected = walked_month_bounds(plan.first_date, plan.total_days)
    assert [plan.month_bounds(day) for day in range(plan.total_days)] == expected
    assert expected[-1][1] is not None and expected[0] == (0, None)  # the walk covers more than one month


def test_plan_is_fixed_by_the_scenario() -> None:
    """Store openings come in opening order, periods are placed on the day axis, and the plan cannot be changed."""
    spec = load_scenario("strategy_store_network")
    plan = EventPlan.of(spec)
    days = [o.day for o in plan.openings]
    assert days == sorted(days) and len(days) > 1
    strategy = spec.strategies[0]
    placed = next(p for p in plan.placed if p.event is strategy)
    assert placed.start == plan.day_of(strategy.start)
    assert sum(o.outlets for o in plan.openings) == pytest.approx(sum(s.count for s in strategy.params.stores))
    assert plan.first_effect_day() == 0  # added stores exist (closed) from construction
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.scale = 1.0  # type: ignore[misc]
