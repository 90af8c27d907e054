"""The timeline: a scenario's shocks, strategies and risk rules applied to one model's levers, day by day.

It runs an `EventPlan` (`simsales.events.plan`: the events placed on the run's days, fixed by
the scenario alone) on one model: it compiles each event's kind against the model's stores and
products, opens the planned stores, books costs, tracks subsidy budgets and the risk reserve,
checks the risk rules at month ends and logs what it did.  The model calls `start_of_day()` once per day before the journey (levers for today, store
openings, set-up costs) and `end_of_day()` after it (running costs, subsidy budgets and, at a
month end, the risk rules).  Every lever an event touches is recomputed from its neutral value
whenever an event starts, ramps, ends or a rule fires, so events compose (factors multiply,
shifts add, a set wins) and end cleanly.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from simsales.events import rules
from simsales.events.effects import Effect, compile_kind, dealer_mask, neutral_value
from simsales.events.plan import OBJECT_SOURCE, EventPlan
from simsales.scenario import events as ev
from simsales.scenario.errors import ScenarioError
from simsales.scenario.schema import DAYS_PER_MONTH

if TYPE_CHECKING:
    from simsales.model import MarketModel


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
    """The events of one model run at work: what has been compiled against the model's stores and
    products, which events are active and how far rolled out, costs and budgets so far, risk-rule
    streaks and the rule log.

    Built once the model's network, salesforce, levers and recorder exist (`MarketModel.__init__`,
    or `take_over` for a restored model); it changes only as the run's days pass.  What follows
    from the scenario alone is the immutable `plan`.
    """

    def __init__(self, plan: EventPlan, model: MarketModel) -> None:
        self.plan = plan
        self.model = model
        first_new = model.network.n - len(plan.openings)
        #: Store openings still to happen or done, by store index.
        self.openings = [Opening(first_new + i, o.day, o.setup_cost, o.label) for i, o in enumerate(plan.openings)]
        for opening in self.openings:
            if opening.day > 0:
                model.salesforce.staff_store(opening.dealer, False)
        #: Every event placed so far: the plan's shocks and strategies, then risk-rule actions as they fire.
        self.active: list[Active] = [a for p in plan.placed for a in self._compile(p.event, p.source, p.start, p.end)]
        self.rule_states = {rule.name: RuleState() for rule in plan.spec.risk_rules}
        self._touched: set[str] = {e.lever for a in self.active for e in a.effects}
        self._weights: tuple[float, ...] | None = None
        self._exhausted: set[str] = set()
        self._spent: dict[str, float] = {}
        #: Risk reserve provided and not yet drawn (simulated yuan; see `_book`).
        self.reserve_balance = 0.0
        self._check_demand_limit()

    @classmethod
    def take_over(cls, plan: EventPlan, model: MarketModel) -> Timeline:
        """Replace the timeline of a model restored from an event-free twin's snapshot by one of `plan`.

        Valid only on or before `plan.first_effect_day()`: nothing of the plan has acted yet, so
        the twin's timeline holds nothing to carry over.
        """
        if model.day > plan.first_effect_day():
            raise ValueError(f"a timeline acting from day {plan.first_effect_day()} cannot take over a model on day {model.day}")
        model.timeline = cls(plan, model)
        return model.timeline

    def _compile(self, event: ev.Shock | ev.Strategy | ev.Action, source: str, start: int, end: int) -> list[Active]:
        """An event in force on days [start, end), its kind compiled against the model's cells."""
        scope = ev.default_scope(event)
        params = event.params
        programme = None
        if isinstance(params, ev.TradeInSubsidy):
            programme = params.programme or event.label
        effects = compile_kind(params, scope, self.model)
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
        covered = np.zeros(model.network.n, dtype=bool)
        recovery = end - start
        for placed in self.plan.placed:
            continuity = placed.event.params
            if isinstance(continuity, ev.BusinessContinuity) and placed.start <= start < placed.end:
                covered |= dealer_mask(ev.default_scope(placed.event), model)
                recovery = min(recovery, continuity.recovery_days)
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
        plan = self.plan
        trend_rate = getattr(plan.spec.population, "demand_trend_per_year", 0.0)
        for day in sorted({d for a in demand for d in (a.start, a.end - 1, a.start + a.ramp_days)}):
            if not 0 <= day < plan.total_days:
                continue
            value = np.asarray(neutral_value("demand_multiplier", self.model))
            for a in demand:
                w = a.weight(day)
                for e in a.effects:
                    if w > 0 and e.lever == "demand_multiplier":
                        value = e.apply(value, w)
            years = (plan.first_date + timedelta(days=day) - trend_origin(plan.spec.population, plan.spec.run.start_date)).days / 365.0
            peak = float(np.max(value)) * (1.0 + trend_rate) ** years
            if peak > MAX_DEMAND_MULTIPLIER + 1e-9:
                labels = [s.label for s in plan.spec.shocks]
                named = [f"shocks[{labels.index(a.label)}] '{a.label}'" for a in demand if a.weight(day) > 0 and a.label in labels]
                raise ScenarioError(
                    f"{' and '.join(named) or 'demand shocks'} raise market entry to {peak:.2f} x the base on "
                    f"{plan.first_date + timedelta(days=day)}; at most {MAX_DEMAND_MULTIPLIER} is possible "
                    "(simsales.journey.MAX_DEMAND_MULTIPLIER, trend included): lower their 'change'",
                    file=OBJECT_SOURCE,
                    key=named[-1].split(" ")[0] + ".change" if named else "shocks",
                )

    # --- the day ---------------------------------------------------------------------------

    def start_of_day(self) -> None:
        """Open today's stores, book set-up costs and set today's lever values."""
        model = self.model
        day = model.day
        for opening in self.openings:
            if opening.day == day and day > 0:
                self._open_store(opening)
        for a in self.active:
            if a.start == day and a.costs is not None and not a.booked_setup:
                a.booked_setup = True
                self._book(a.source, a.kind, a.costs.setup_cost * self.plan.scale)
        weights = tuple(0.0 if a.programme in self._exhausted else a.weight(day) for a in self.active)
        if weights != self._weights:
            self._weights = weights
            self._set_levers(weights)

    def _set_levers(self, weights: tuple[float, ...]) -> None:
        model = self.model
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
        value = neutral_value(lever, self.model)
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
        model.recorder.add("strategy_cost", opening.setup_cost * self.plan.scale)

    def end_of_day(self) -> None:
        """Running costs, subsidy budgets and, at a month end, the risk rules."""
        model = self.model
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

    def _book(self, source: str, kind: str, amount: float) -> None:
        """Book a cost: strategies' as strategy costs, risk rules' as risk costs.

        Risk reserves (a strategy or a rule's provision) are booked and build up the reserve; any
        other cost of a risk rule's action is a loss the plan provided for: it is drawn from the
        reserve while the reserve lasts (flow ``reserve_drawn``) and only the rest is booked again.
        """
        rec = self.model.recorder
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
        rec, days = model.recorder, d1 - d0 + 1
        cost = costs.cost_month * self.plan.scale * days / DAYS_PER_MONTH
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
        paid = self.model.recorder.flows["trade_in_subsidies"][day] / self.plan.scale
        if not paid:
            return
        running = {a.programme for a, w in zip(self.active, self._weights or (), strict=False) if a.programme and w > 0}
        for programme in running:  # spending is attributed to the programme in force (one at a time)
            self._spent[programme] = self._spent.get(programme, 0.0) + paid
            budget = self.plan.budget(programme)
            if budget is not None and self._spent[programme] >= budget:
                self._exhausted.add(programme)

    # --- risk rules ------------------------------------------------------------------------

    def _month_end(self, day: int) -> None:
        """Check every risk rule in force on the month's last day; fire those whose condition held long enough."""
        model, spec = self.model, self.plan.spec
        today = model.date
        month_start, prev_month_start = self.plan.month_bounds(day)
        for rule in spec.risk_rules:
            start = rule.start or spec.run.start_date
            if today < start or (rule.end is not None and today > rule.end):
                continue
            state = self.rule_states[rule.name]
            value = rules.metric(model, rule, month_start, day, prev_month_start)
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
                row.update(self._fire(rule, day, month_start))
                state.running_until = day + 1 + rule.action.days
            state.log.append(row)

    def _fire(self, rule: ev.RiskRule, day: int, month_start: int) -> dict[str, Any]:
        """Start a rule's action tomorrow (or book a one-off provision now for the month from `month_start`)."""
        model = self.model
        action = rule.action
        firm = ev.default_scope(action).get("firm", "focal")
        if action.days == 0:
            shares = dataclasses.replace(action.costs, cost_month=0.0)  # shares of the month just ended
            cost = (action.costs.setup_cost + action.costs.cost_month) * self.plan.scale
            cost += self._running_cost(shares, firm, month_start, day)
            self._book(f"rule:{rule.name}", action.kind, cost)
            return {"cost": cost}
        start, end = day + 1, min(day + 1 + action.days, self.plan.total_days)
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
                "start": self.plan.first_date + timedelta(days=a.start),
                "end": self.plan.first_date + timedelta(days=a.end - 1),
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
                "start": self.plan.first_date + timedelta(days=o.day),
                "end": pd.NaT,
                "ramp_days": 0,
                "levers": f"opens store {o.dealer}",
            }
            for o in self.openings
        ]
        return pd.DataFrame(rows, columns=["label", "source", "kind", "start", "end", "ramp_days", "levers"])
