"""The event plan: a scenario's shocks, strategies and store openings placed on its day axis, once.

`EventPlan.of(scenario)` checks the events and fixes everything that follows from the scenario
alone: which day each shock and strategy starts and ends, which store agents a store-network
strategy adds and on which day each opens, how many real yuan a simulated yuan stands for, and
the first day the events can act.  It is immutable and needs no model, so it is what the
network is built from (`extra_stores`, `open_at_start`) and what warm starts plan with
(`first_effect_day`, `simsales.warmstart`); `simsales.events.timeline.Timeline` applies it to
one model, day by day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np

from simsales.scenario import events as ev
from simsales.scenario.schema import TIERS, NetworkSpec, Scenario

#: A store-network plan's outlets open in tranches of about this many days of its ramp (one agent each).
OPENING_TRANCHE_DAYS = 30
#: What errors name as the file when a scenario was built in Python (files are checked on loading).
OBJECT_SOURCE = "<scenario object>"


@dataclass(frozen=True)
class PlannedOpening:
    """A store agent a store-network strategy adds: its format and city tier, the day it opens,
    its set-up cost (real yuan, all its outlets), the strategy's label and the real outlets it stands for."""

    format: str
    tier: str
    day: int
    setup_cost: float
    label: str
    outlets: float


@dataclass(frozen=True)
class PlacedEvent:
    """A shock or strategy on the day axis: in force on days [start, end) (0 = first warm-up day)."""

    event: ev.Shock | ev.Strategy
    source: str  # "shock" or "strategy"
    start: int
    end: int  # exclusive


@dataclass(frozen=True)
class EventPlan:
    """A scenario's events placed on its days; built by `EventPlan.of`, never changed afterwards."""

    spec: Scenario
    first_date: date
    total_days: int
    #: Simulated consumers per real household: real yuan x scale = simulated yuan.
    scale: float
    #: Shocks, then strategies, in the order the scenario lists them.
    placed: tuple[PlacedEvent, ...]
    #: Store agents the scenario adds, in opening order (appended to the network in this order).
    openings: tuple[PlannedOpening, ...]

    @classmethod
    def of(cls, scenario: Scenario) -> EventPlan:
        """Check a scenario's events (files were checked on loading; objects built in Python here) and place them."""
        ev.check_events(scenario, OBJECT_SOURCE)
        run = scenario.run
        first_date = run.start_date - timedelta(days=run.warmup_days)
        total_days = run.warmup_days + run.days

        def period(event: Any) -> tuple[int, int]:
            end = (event.end - first_date).days + 1 if event.end else total_days
            return (event.start - first_date).days, end

        placed = [PlacedEvent(shock, "shock", *period(shock)) for shock in scenario.shocks]
        placed += [PlacedEvent(strategy, "strategy", *period(strategy)) for strategy in scenario.strategies]
        openings = [
            opening
            for p in placed
            if isinstance(p.event.params, ev.StoreNetwork)
            for opening in _tranches(p.event, p.start, p.end)
        ]
        openings.sort(key=lambda o: o.day)  # agents are appended in opening order
        return cls(
            spec=scenario,
            first_date=first_date,
            total_days=total_days,
            scale=run.n_consumers / run.real_population,
            placed=tuple(placed),
            openings=tuple(openings),
        )

    def day_of(self, when: date) -> int:
        """Day index (0 = first simulated day, warm-up included) of a date."""
        return (when - self.first_date).days

    def month_bounds(self, day: int) -> tuple[int, int | None]:
        """First day of `day`'s calendar month and of the month before, clipped to the run's first day;
        None for the month before while `day` is in the run's first month (risk-rule metrics compare months)."""
        today = self.first_date + timedelta(days=day)
        start = max(0, self.day_of(today.replace(day=1)))
        if start == 0:
            return 0, None
        before = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
        return start, max(0, self.day_of(before))

    def extra_stores(self, network_spec: NetworkSpec) -> list[tuple[int, int, float]]:
        """(format index, tier index, real outlets) of every store agent the scenario opens, in opening order."""
        names = [f.name for f in network_spec.formats]
        return [(names.index(o.format), TIERS.index(o.tier), o.outlets) for o in self.openings]

    def open_at_start(self, n_dealers: int) -> np.ndarray:
        """Which stores are open on day 0: the original network and stores opening on the first day."""
        is_open = np.ones(n_dealers, dtype=bool)
        first_new = n_dealers - len(self.openings)
        for i, opening in enumerate(self.openings):
            is_open[first_new + i] = opening.day <= 0
        return is_open

    def first_effect_day(self) -> int:
        """The first day on which these events can make a run differ from the same run without them.

        Stores a scenario opens exist as (closed) agents from construction, so such a plan
        differs from day 0; shocks and strategies act from their start, or as soon as consumers
        foresee them (`population.anticipation_days` earlier), risk rules from the first day
        they are checked.  Before this day a run equals its event-free twin, which
        is what lets experiment arms share one warm-up (`simsales.warmstart`).
        """
        if self.openings:
            return 0
        spec = self.spec
        days = [self.total_days]
        # announced changes are foreseen `anticipation_days` ahead (simsales.market.anticipation)
        lead = spec.population.anticipation_days
        days += [p.start - lead for p in self.placed]
        days += [self.day_of(rule.start or spec.run.start_date) for rule in spec.risk_rules]
        return max(0, min(days))

    def budget(self, programme: str) -> float | None:
        """The budget (real yuan) of a trade-in subsidy programme: the first one its shocks give, or None."""
        for shock in self.spec.shocks:
            named = isinstance(shock.params, ev.TradeInSubsidy) and (shock.params.programme or shock.label) == programme
            if named and shock.params.budget is not None:
                return shock.params.budget
        return None


def _tranches(strategy: ev.Strategy, start: int, end: int) -> list[PlannedOpening]:
    """Each entry's real outlets open in monthly tranches over the ramp (one store agent per tranche).

    A tranche's agent stands for the tranche's real outlets (`Network.outlet_weight`), so the
    plan's store counts act the same at every population size.
    """
    out = []
    for store in strategy.params.stores:  # type: ignore[attr-defined]
        tranches = min(store.count, max(1, -(-strategy.ramp_days // OPENING_TRANCHE_DAYS)))
        for i in range(tranches):
            day = start + (round(i * strategy.ramp_days / tranches) if strategy.ramp_days else 0)
            outlets = store.count / tranches
            if day < end:
                out.append(PlannedOpening(store.format, store.tier, day, outlets * store.setup_cost, strategy.label, outlets))
    return out
