"""The timeline: a scenario's shocks, strategies and risk rules applied to the model's levers.

The model calls `start_of_day()` once per day before the journey (levers for today, store
openings, set-up costs) and `end_of_day()` after it (running costs, subsidy budgets and, at a
month end, the risk rules).  Every lever an event touches is recomputed from its neutral value
whenever an event starts, ramps, ends or a rule fires, so events compose (factors multiply,
shifts add, a set wins) and end cleanly.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from simsales.events import rules
from simsales.events.effects import Effect, compile_kind, dealer_mask, neutral_value
from simsales.scenario import events as ev
from simsales.scenario.errors import ScenarioError
from simsales.scenario.schema import DAYS_PER_MONTH, TIERS

if TYPE_CHECKING:
    from simsales.model import MarketModel

#: A store-network plan's outlets open in tranches of about this many days of its ramp (one agent each).
OPENING_TRANCHE_DAYS = 30
OBJECT_SOURCE = "<scenario object>"


@dataclass
class Active:
    """An event placed on the model's day axis: [start, end) with a linear ramp and its effects."""

    label: str
    source: str  # "shock", "strategy" or "rule:<name>"
    kind: str
    start: int
    end: int  # exclusive
    ramp_days: int
    effects: list[Effect]
    costs: ev.Costs | None = None
    firm: str = "all"
    programme: str | None = None
    transfer_cost: float = 0.0
    booked_setup: bool = False

    def weight(self, day: int) -> float:
        """Roll-out strength on `day`: 0 outside the period, then (k+1)/ramp_days up to 1."""
        if day < self.start or day >= self.end:
            return 0.0
        if self.ramp_days <= 0:
            return 1.0
        return min(1.0, (day - self.start + 1) / self.ramp_days)


@dataclass
class Opening:
    """A store the focal firm opens on `day` (index into the network)."""

    dealer: int
    day: int
    setup_cost: float  # real yuan, all the agent's outlets
    label: str


@dataclass
class RuleState:
    """Per-rule bookkeeping: consecutive month ends the condition held, and when its action ends."""

    streak: int = 0
    running_until: int = -1
    firings: int = 0
    log: list[dict[str, Any]] = field(default_factory=list)


class Timeline:
    """Shocks, strategies and risk rules of one model run, placed on its days."""

    def __init__(self, scenario: Any) -> None:
        ev.check_events(scenario, OBJECT_SOURCE)  # files were checked on loading; objects built in Python here
        self.spec = scenario
        run = scenario.run
        self.first_date = run.start_date - timedelta(days=run.warmup_days)
        self.total_days = run.warmup_days + run.days
        self.scale = run.n_consumers / run.real_population  # real yuan -> simulated yuan
        # (format, tier, day, set-up cost in real yuan, label, real outlets) of each store agent to open
        self._planned: list[tuple[str, str, int, float, str, float]] = []
        for strategy in scenario.strategies:
            if isinstance(strategy.params, ev.StoreNetwork):
                self._plan_openings(strategy)
        self.openings: list[Opening] = []
        self.active: list[Active] = []
        self.rule_states: dict[str, RuleState] = {}
        self.model: MarketModel | None = None

    # --- construction ----------------------------------------------------------------------

    def day_of(self, when: date) -> int:
        """Day index (0 = first simulated day, warm-up included) of a date."""
        return (when - self.first_date).days

    def _plan_openings(self, strategy: ev.Strategy) -> None:
        """Each entry's real outlets open in monthly tranches over the ramp (one store agent per tranche).

        A tranche's agent stands for the tranche's real outlets (`Network.outlet_weight`), so the
        plan's store counts act the same at every population size.
        """
        start = self.day_of(strategy.start)
        end = self.day_of(strategy.end) + 1 if strategy.end else self.total_days
        for store in strategy.params.stores:
            tranches = min(store.count, max(1, -(-strategy.ramp_days // OPENING_TRANCHE_DAYS)))
            for i in range(tranches):
                day = start + (round(i * strategy.ramp_days / tranches) if strategy.ramp_days else 0)
                outlets = store.count / tranches
                if day < end:
                    self._planned.append((store.format, store.tier, day, outlets * store.setup_cost, strategy.label, outlets))
        self._planned.sort(key=lambda plan: plan[2])  # agents are appended in opening order

    def extra_stores(self, network_spec: Any) -> list[tuple[int, int, float]]:
        """(format index, tier index, real outlets) of every store agent the scenario opens, in opening order."""
        names = [f.name for f in network_spec.formats]
        return [(names.index(fmt), TIERS.index(tier), outlets) for fmt, tier, _, _, _, outlets in self._planned]

    def open_at_start(self, n_dealers: int) -> np.ndarray:
        """Which stores are open on day 0: the original network and stores opening on the first day."""
        is_open = np.ones(n_dealers, dtype=bool)
        first_new = n_dealers - len(self._planned)
        for i, plan in enumerate(self._planned):
            is_open[first_new + i] = plan[2] <= 0
        return is_open

    def bind(self, model: MarketModel) -> None:
        """Compile every event against the built model (its stores, products and base values)."""
        self.model = model
        first_new = model.network.n - len(self._planned)
        for i, (_, _, day, cost, label, _) in enumerate(self._planned):
            self.openings.append(Opening(first_new + i, day, cost, label))
            if day > 0:
                model.salesforce.staff_store(first_new + i, False)
        for shock in self.spec.shocks:
            self.active += self._compile(shock, "shock")
        for strategy in self.spec.strategies:
            self.active += self._compile(strategy, "strategy")
        self.rule_states = {rule.name: RuleState() for rule in self.spec.risk_rules}
        self._touched: set[str] = {e.lever for a in self.active for e in a.effects}
        self._weights: tuple[float, ...] | None = None
        self._exhausted: set[str] = set()
        self._spent: dict[str, float] = {}
        self._month_start = 0
        self._prev_month_start: int | None = None
        #: Risk reserve provided and not yet drawn (simulated yuan; see `_book`).
        self.reserve_balance = 0.0
        self._check_demand_limit()

    def first_effect_day(self) -> int:
        """The first day on which this timeline can make a run differ from the same run without it.

        Stores a scenario opens exist as (closed) agents from construction, so such a timeline
        differs from day 0; shocks and strategies act from their start, or as soon as consumers
        foresee them (`population.anticipation_days` earlier), risk rules from the first day
        they are checked.  Before this day a run equals its event-free twin, which
        is what lets experiment arms share one warm-up (`simsales.warmstart`).
        """
        if self._planned:
            return 0
        spec = self.spec
        days = [self.total_days]
        # announced changes are foreseen `anticipation_days` ahead (simsales.market.anticipation)
        lead = spec.population.anticipation_days
        days += [self.day_of(event.start) - lead for event in (*spec.shocks, *spec.strategies)]
        days += [self.day_of(rule.start or spec.run.start_date) for rule in spec.risk_rules]
        return max(0, min(days))

    def take_over(self, model: MarketModel) -> None:
        """Bind to a model restored from an event-free twin's snapshot and continue its month bookkeeping.

        Valid only on or before `first_effect_day()`: nothing of this timeline has acted yet.
        """
        if model.day > self.first_effect_day():
            raise ValueError(f"a timeline acting from day {self.first_effect_day()} cannot take over a model on day {model.day}")
        previous = model.timeline
        self.bind(model)
        self._month_start, self._prev_month_start = previous._month_start, previous._prev_month_start
        model.timeline = self

    def _compile(self, event: Any, source: str, start: int | None = None, end: int | None = None) -> list[Active]:
        scope = ev.default_scope(event)
        if start is None:
            start = self.day_of(event.start)
            end = self.day_of(event.end) + 1 if event.end else self.total_days
        assert end is not None
        params = event.params
        programme = None
        if isinstance(params, ev.TradeInSubsidy):
            programme = params.programme or event.label
        effects = compile_kind(params, scope, self.model)  # type: ignore[arg-type]
        common = dict(
            label=event.label,
            source=source,
            kind=event.kind,
            ramp_days=event.ramp_days,
            costs=getattr(event, "costs", None),
            firm=scope.get("firm", "all"),
            programme=programme,
            transfer_cost=getattr(params, "transfer_cost", 0.0),
        )
        if isinstance(params, ev.DataPlatformOutage):
            return self._compile_outage(event, scope, effects, start, end, common)
        return [Active(start=start, end=end, effects=effects, **common)]

    def _compile_outage(self, event: Any, scope: dict[str, Any], effects: list[Effect], start: int, end: int, common: dict[str, Any]) -> list[Active]:
        """Stores covered by a business-continuity plan in force at the outage's start recover after its recovery days."""
        model = self.model
        assert model is not None
        covered = np.zeros(model.network.n, dtype=bool)
        recovery = end - start
        for strategy in self.spec.strategies:
            if isinstance(strategy.params, ev.BusinessContinuity):
                s0 = self.day_of(strategy.start)
                s1 = self.day_of(strategy.end) + 1 if strategy.end else self.total_days
                if s0 <= start < s1:
                    covered |= dealer_mask(ev.default_scope(strategy), model)
                    recovery = min(recovery, strategy.params.recovery_days)
        if not covered.any() or recovery >= end - start:
            return [Active(start=start, end=end, effects=effects, **common)]

        def masked(keep: np.ndarray) -> list[Effect]:
            return [Effect(e.lever, e.op, e.value, e.mask & keep.reshape([-1] + [1] * (e.mask.ndim - 1))) for e in effects]

        return [
            Active(start=start, end=end, effects=masked(~covered), **common),
            Active(start=start, end=start + recovery, effects=masked(covered), **{**common, "label": f"{event.label} (recovered)"}),
        ]

    def _check_demand_limit(self) -> None:
        """Market-entry multipliers above the journey's ceiling would be silently capped: refuse them."""
        from simsales.journey import MAX_DEMAND_MULTIPLIER
        from simsales.market.adoption import trend_origin

        demand = [a for a in self.active if any(e.lever == "demand_multiplier" for e in a.effects)]
        if not demand:
            return
        trend_rate = getattr(self.spec.population, "demand_trend_per_year", 0.0)
        for day in sorted({d for a in demand for d in (a.start, a.end - 1, a.start + a.ramp_days)}):
            if not 0 <= day < self.total_days:
                continue
            value = np.asarray(neutral_value("demand_multiplier", self.model))  # type: ignore[arg-type]
            for a in demand:
                w = a.weight(day)
                for e in a.effects:
                    if w > 0 and e.lever == "demand_multiplier":
                        value = e.apply(value, w)
            years = (self.first_date + timedelta(days=day) - trend_origin(self.spec.population, self.spec.run.start_date)).days / 365.0
            peak = float(np.max(value)) * (1.0 + trend_rate) ** years
            if peak > MAX_DEMAND_MULTIPLIER + 1e-9:
                labels = [s.label for s in self.spec.shocks]
                named = [f"shocks[{labels.index(a.label)}] '{a.label}'" for a in demand if a.weight(day) > 0 and a.label in labels]
                raise ScenarioError(
                    f"{' and '.join(named) or 'demand shocks'} raise market entry to {peak:.2f} x the base on "
                    f"{self.first_date + timedelta(days=day)}; at most {MAX_DEMAND_MULTIPLIER} is possible "
                    "(simsales.journey.MAX_DEMAND_MULTIPLIER, trend included): lower their 'change'",
                    file=OBJECT_SOURCE,
                    key=named[-1].split(" ")[0] + ".change" if named else "shocks",
                )

    # --- the day ---------------------------------------------------------------------------

    def start_of_day(self) -> None:
        """Open today's stores, book set-up costs and set today's lever values."""
        model = self.model
        assert model is not None
        day = model.day
        for opening in self.openings:
            if opening.day == day and day > 0:
                self._open_store(opening)
        for a in self.active:
            if a.start == day and a.costs is not None and not a.booked_setup:
                a.booked_setup = True
                self._book(a.source, a.kind, a.costs.setup_cost * self.scale)
        weights = tuple(0.0 if a.programme in self._exhausted else a.weight(day) for a in self.active)
        if weights != self._weights:
            self._weights = weights
            self._set_levers(weights)

    def _set_levers(self, weights: tuple[float, ...]) -> None:
        model = self.model
        assert model is not None
        for lever in sorted(self._touched):
            value = self._compose(lever, weights)
            if lever.startswith("policy."):
                setattr(model.policy, lever.split(".", 1)[1], float(value))
            elif np.ndim(value) == 0:
                setattr(model.levers, lever, float(value))
            else:
                setattr(model.levers, lever, value)

    def _compose(self, lever: str, weights: tuple[float, ...]) -> Any:
        """A lever's value given each active event's weight: factors and shifts compose; a set wins."""
        value = neutral_value(lever, self.model)  # type: ignore[arg-type]
        for op in ("mul", "add", "set"):
            for a, w in zip(self.active, weights, strict=True):
                if w <= 0:
                    continue
                for e in a.effects:
                    if e.lever == lever and e.op == op:
                        value = e.apply(value, w)
        return value

    def policy_on(self, day: int) -> dict[str, float]:
        """Policy levers the scenario announces for `day` (as scheduled: budgets running out are not foreseen)."""
        weights = tuple(a.weight(day) for a in self.active)
        return {lever.split(".", 1)[1]: float(self._compose(lever, weights)) for lever in sorted(self._touched) if lever.startswith("policy.")}

    def _open_store(self, opening: Opening) -> None:
        model = self.model
        assert model is not None
        net, d = model.network, opening.dealer
        net.is_open[d] = True
        model.salesforce.staff_store(d, True)
        peers = net.is_open & (net.fmt == net.fmt[d]) & (np.arange(net.n) != d)
        if not peers.any():
            peers = net.is_open & net.focal & (np.arange(net.n) != d)
        if peers.any():  # start from what comparable stores sell per outlet; the store's own sales take over
            per_outlet = (net.forecast[peers] / net.outlet_weight[peers, None]).mean(axis=0)
            net.forecast[d] = per_outlet * net.outlet_weight[d] * net.sells[d]
        model.dealer_weights = model._dealer_weights()
        model.recorder.add("strategy_cost", opening.setup_cost * self.scale)

    def end_of_day(self) -> None:
        """Running costs, subsidy budgets and, at a month end, the risk rules."""
        model = self.model
        assert model is not None
        day, rec = model.day, model.recorder
        for a in self.active:
            if a.costs is not None and a.start <= day < a.end:
                self._book(a.source, a.kind, self._running_cost(a.costs, a.firm, day, day))
        if rec.flows["financing_subsidies"][day]:
            self._book_subsidies(rec.flows["financing_subsidies"][day])
        sharing = [a.transfer_cost for a in self.active if a.kind == "inventory_sharing" and a.start <= day < a.end]
        if sharing:
            rec.add("strategy_cost", rec.flows["transfers"][day] * max(sharing))
        self._track_budgets(day)
        tomorrow = model.date + timedelta(days=1)
        if tomorrow.day == 1:
            self._month_end(day)
            self._prev_month_start, self._month_start = self._month_start, day + 1

    def _book(self, source: str, kind: str, amount: float) -> None:
        """Book a cost: strategies' as strategy costs, risk rules' as risk costs.

        Risk reserves (a strategy or a rule's provision) are booked and build up the reserve; any
        other cost of a risk rule's action is a loss the plan provided for: it is drawn from the
        reserve while the reserve lasts (flow ``reserve_drawn``) and only the rest is booked again.
        """
        rec = self.model.recorder  # type: ignore[union-attr]
        if kind == "risk_reserve":
            self.reserve_balance += amount
        if not source.startswith("rule"):
            rec.add("strategy_cost", amount)
            return
        drawn = 0.0 if kind == "risk_reserve" else min(self.reserve_balance, amount)
        self.reserve_balance -= drawn
        rec.add("reserve_drawn", drawn)
        rec.add("risk_cost", amount - drawn)

    def _book_subsidies(self, paid: float) -> None:
        """Today's buyer financing subsidies, split between the strategies and risk rules paying them."""
        share = {"strategy": 0.0, "rule": 0.0}
        for a, w in zip(self.active, self._weights or (), strict=False):
            for e in a.effects:
                if w > 0 and e.lever in ("financing_subsidy", "clearance_financing") and e.mask.any():
                    share["rule" if a.source.startswith("rule") else "strategy"] += w * float(e.value[e.mask].mean())
        total = share["strategy"] + share["rule"]
        rule_part = paid * share["rule"] / total if total > 0 else 0.0
        if paid - rule_part:
            self._book("strategy", "financing_subsidy", paid - rule_part)
        if rule_part:
            self._book("rule", "financing_subsidy", rule_part)

    def _running_cost(self, costs: ev.Costs, firm: str, d0: int, d1: int) -> float:
        """Cost of days d0..d1 (inclusive): monthly cost plus shares of the firm's sales and pay."""
        model = self.model
        assert model is not None
        rec, days = model.recorder, d1 - d0 + 1
        cost = costs.cost_month * self.scale * days / DAYS_PER_MONTH
        if costs.cost_share_of_sales:
            revenue = rec.flows["revenue"][d0 : d1 + 1].sum()
            focal = rec.flows["focal_revenue"][d0 : d1 + 1].sum()
            cost += costs.cost_share_of_sales * {"focal": focal, "others": revenue - focal}.get(firm, revenue)
        if costs.cost_share_of_payroll:
            sf = model.salesforce
            staff = sf.headcount(dealer_mask({"firm": firm}, model)[sf.dealer])
            cost += costs.cost_share_of_payroll * staff * model.spec.salesforce.salary_month * days / DAYS_PER_MONTH
        return float(cost)

    def _track_budgets(self, day: int) -> None:
        """A subsidy programme stops the day after its spending (in real yuan) reaches its budget."""
        paid = self.model.recorder.flows["trade_in_subsidies"][day] / self.scale  # type: ignore[union-attr]
        if not paid:
            return
        running = {a.programme for a, w in zip(self.active, self._weights or (), strict=False) if a.programme and w > 0}
        for programme in running:  # spending is attributed to the programme in force (one at a time)
            self._spent[programme] = self._spent.get(programme, 0.0) + paid
            budget = self._budget(programme)
            if budget is not None and self._spent[programme] >= budget:
                self._exhausted.add(programme)

    def _budget(self, programme: str) -> float | None:
        for shock in self.spec.shocks:
            named = isinstance(shock.params, ev.TradeInSubsidy) and (shock.params.programme or shock.label) == programme
            if named and shock.params.budget is not None:
                return shock.params.budget
        return None

    # --- risk rules ------------------------------------------------------------------------

    def _month_end(self, day: int) -> None:
        model = self.model
        assert model is not None
        today = model.date
        for rule in self.spec.risk_rules:
            start = rule.start or self.spec.run.start_date
            if today < start or (rule.end is not None and today > rule.end):
                continue
            state = self.rule_states[rule.name]
            value = rules.metric(model, rule, self._month_start, day, self._prev_month_start)
            holds = rule.holds(value)
            state.streak = state.streak + 1 if holds else 0
            running = state.running_until > day + 1
            fire = holds and state.streak >= rule.months and not running
            row = {
                "date": pd.Timestamp(today),
                "rule": rule.name,
                "metric": rule.metric,
                "scope": rule.scope,
                "value": value,
                "threshold": rule.above if rule.above is not None else rule.below,
                "condition": holds,
                "streak": state.streak,
                "fired": fire,
                "action": rule.action.kind,
                "action_until": pd.NaT,
                "cost": 0.0,
            }
            if fire:
                state.streak = 0
                state.firings += 1
                row.update(self._fire(rule, day))
                state.running_until = day + 1 + rule.action.days
            state.log.append(row)

    def _fire(self, rule: ev.RiskRule, day: int) -> dict[str, Any]:
        """Start a rule's action tomorrow (or book a one-off provision now)."""
        model = self.model
        assert model is not None
        action = rule.action
        firm = ev.default_scope(action).get("firm", "focal")
        if action.days == 0:
            shares = dataclasses.replace(action.costs, cost_month=0.0)  # shares of the month just ended
            cost = (action.costs.setup_cost + action.costs.cost_month) * self.scale
            cost += self._running_cost(shares, firm, self._month_start, day)
            self._book(f"rule:{rule.name}", action.kind, cost)
            return {"cost": cost}
        start, end = day + 1, min(day + 1 + action.days, self.total_days)
        new = self._compile(action, f"rule:{rule.name}", start, end)
        for a in new:
            a.label = f"{rule.name}: {action.label}"
        self.active += new
        self._touched |= {e.lever for a in new for e in a.effects}
        self._weights = None  # recompute tomorrow
        return {"action_until": pd.Timestamp(model.date + timedelta(days=action.days))}

    # --- outputs ---------------------------------------------------------------------------

    def rule_log(self) -> pd.DataFrame:
        """One row per rule and month end checked: metric value, condition, whether the rule fired."""
        rows = [row for state in self.rule_states.values() for row in state.log]
        columns = ["date", "rule", "metric", "scope", "value", "threshold", "condition", "streak", "fired", "action", "action_until", "cost"]
        return pd.DataFrame(rows, columns=columns).sort_values(["date", "rule"], kind="stable").reset_index(drop=True)

    def events(self) -> pd.DataFrame:
        """One row per event placed on the timeline (risk-rule actions included as they fire)."""
        rows = [
            {
                "label": a.label,
                "source": a.source,
                "kind": a.kind,
                "start": self.first_date + timedelta(days=a.start),
                "end": self.first_date + timedelta(days=a.end - 1),
                "ramp_days": a.ramp_days,
                "levers": ", ".join(sorted({e.lever for e in a.effects})),
            }
            for a in self.active
        ]
        rows += [
            {
                "label": o.label,
                "source": "strategy",
                "kind": "store_opening",
                "start": self.first_date + timedelta(days=o.day),
                "end": pd.NaT,
                "ramp_days": 0,
                "levers": f"opens store {o.dealer}",
            }
            for o in self.openings
        ]
        return pd.DataFrame(rows, columns=["label", "source", "kind", "start", "end", "ramp_days", "levers"])
