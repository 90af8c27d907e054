"""The entries of a scenario's event sections: a kind placed in time, with its scope and costs.

`Shock` ([[shocks]]) and `Strategy` ([[strategies]]) put a kind (`simsales.scenario.events.kinds`)
on the calendar: ``start``, optional inclusive ``end``, a linear ``ramp_days`` roll-out and a
`Scope`; strategies also carry `Costs`.  A `RiskRule` ([[risk_rules]]) watches a month-end metric
(`METRICS`) and runs an `Action` (a kind for ``days`` days) when it fires.  These classes only
describe; reading them from TOML is `parsing`, the checks across sections `validation`, and
`to_raw()` writes an entry back as the table a file would hold.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar, Literal

from simsales.scenario import bounds as B
from simsales.scenario.events.kinds import Kind, _nonneg, _prob

#: The list sections of a scenario that hold dated events (each entry one event).
EVENT_SECTIONS = ("shocks", "strategies", "risk_rules")

#: Month-end metrics a risk rule can watch, and the scopes each supports.
METRICS: dict[str, tuple[str, tuple[str, ...]]] = {
    "stock_coefficient": ("month-end stock over the month's units sold from stock", ("focal", "market")),
    "aged_stock_share": ("share of stock older than age_days at month end", ("focal", "market")),
    "attrition": ("salespeople who left at month end over month-end headcount", ("focal", "market")),
    "talent_gap": ("vacant sales positions over positions", ("focal", "market")),
    "sales_change": ("deliveries this month over last month, minus 1", ("focal", "market")),
    "market_share": ("focal firm's share of the month's deliveries", ("focal",)),
    "nev_share": ("NEV share of the month's deliveries", ("market",)),
    "satisfaction": ("mean satisfaction of the month's buyers", ("market",)),
    "lead_conversion": ("the month's orders over its leads", ("market",)),
    "always": ("true at every month end (for provisions)", ("focal", "market")),
}

#: Cost keys shared by strategies and risk-rule actions (real yuan; shares of the scope's sales or payroll).
COST_KEYS = ("setup_cost", "cost_month", "cost_share_of_sales", "cost_share_of_payroll")


@dataclass(frozen=True)
class Scope:
    """Where an event acts.  None means 'the kind's default' (strategies: the focal firm; else everything).

    ``tier`` selects stores by their city tier for store levers and consumers by theirs for
    consumer levers; ``powertrain`` accepts BEV, PHEV, ICE and NEV (= BEV + PHEV).
    """

    firm: Literal["all", "focal", "others"] | None = None
    tier: tuple[str, ...] | None = None
    format: tuple[str, ...] | None = None
    product: tuple[str, ...] | None = None
    powertrain: tuple[str, ...] | None = None
    brand_type: tuple[str, ...] | None = None

    def given(self) -> dict[str, Any]:
        """The keys set explicitly."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if getattr(self, f.name) is not None}

    def to_raw(self) -> dict[str, Any]:
        """TOML-shaped dict of the keys given."""
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.given().items()}


@dataclass(frozen=True)
class Costs:
    """What a strategy or action costs; yuan are real (scaled to the simulated population)."""

    setup_cost: float = _nonneg(0.0, "one-off cost at the start, real yuan", max=B.MAX_TOTAL_YUAN)
    cost_month: float = _nonneg(0.0, "running cost per month while active, real yuan", max=B.MAX_TOTAL_YUAN)
    cost_share_of_sales: float = _prob(0.0, "running cost as a share of the firm's (scope's) sales revenue")
    cost_share_of_payroll: float = _prob(0.0, "running cost as a share of the firm's (scope's) salesforce pay")


class _Event:
    """Shared behaviour of Shock, Strategy and Action."""

    #: The keys an entry takes besides its kind's parameters.
    COMMON: ClassVar[tuple[str, ...]] = ()
    params: Kind
    name: str

    @property
    def kind(self) -> str:
        """The kind's name, e.g. 'list_price'."""
        return self.params.KIND

    @property
    def label(self) -> str:
        """The name (the kind when none was given)."""
        return self.name or self.kind

    def __post_init__(self) -> None:
        if not self.name:  # unnamed events are called by their kind (names address events in dotted overrides)
            object.__setattr__(self, "name", self.params.KIND)

    def to_raw(self) -> dict[str, Any]:
        """The TOML-shaped table for this event (what a file would say)."""
        out: dict[str, Any] = {"kind": self.kind, "name": self.label}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if f.name in ("params", "name") or value is None:
                continue
            if isinstance(value, Scope):
                if value.given():
                    out["scope"] = value.to_raw()
            elif isinstance(value, Costs):
                out.update(dataclasses.asdict(value))
            else:
                out[f.name] = value.isoformat() if isinstance(value, date) else value
        out.update(_params_raw(self.params))
        return out


def _params_raw(params: Kind) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in dataclasses.fields(params):
        value = getattr(params, f.name)
        if value is None:
            continue
        if f.name == "stores":
            value = [dataclasses.asdict(s) for s in value]
        out[f.name] = value
    return out


@dataclass(frozen=True)
class Shock(_Event):
    """A timed change of the market the focal firm does not control (policy, prices, demand, supply, talent, operations)."""

    COMMON: ClassVar[tuple[str, ...]] = ("kind", "name", "start", "end", "ramp_days", "scope")
    params: Kind
    start: date
    end: date | None = field(default=None, metadata={"doc": "last day in force (inclusive); none = to the end"})
    ramp_days: int = field(default=0, metadata={"min": 0, "max": B.MAX_HORIZON_DAYS, "doc": "days over which the change grows to full strength"})
    scope: Scope = Scope()
    name: str = ""


@dataclass(frozen=True)
class Strategy(_Event):
    """A lever of the focal firm rolled out from a date, with its costs."""

    COMMON: ClassVar[tuple[str, ...]] = ("kind", "name", "start", "end", "ramp_days", "scope", "spec", *COST_KEYS)
    params: Kind
    start: date
    end: date | None = field(default=None, metadata={"doc": "last day in force (inclusive); none = to the end"})
    ramp_days: int = field(default=0, metadata={"min": 0, "max": B.MAX_HORIZON_DAYS, "doc": "days of the linear roll-out to full strength"})
    scope: Scope = Scope()
    costs: Costs = Costs()
    name: str = ""


@dataclass(frozen=True)
class Action(_Event):
    """What a risk rule does when it fires: a strategy kind, or the firm's own list price or dealer
    discount (`PRICING_ACTION_KINDS`), applied from the next day for `days` days."""

    COMMON: ClassVar[tuple[str, ...]] = ("kind", "name", "days", "ramp_days", "scope", *COST_KEYS)
    params: Kind
    days: int = field(default=30, metadata={"min": 0, "max": B.MAX_HORIZON_DAYS, "doc": "days in force from the day after firing (0: one-off booking)"})
    ramp_days: int = field(default=0, metadata={"min": 0, "max": B.MAX_HORIZON_DAYS, "doc": "days of the linear roll-out"})
    scope: Scope = Scope()
    costs: Costs = Costs()
    name: str = ""


@dataclass(frozen=True)
class RiskRule:
    """A condition -> action rule checked at every month end: when `metric` is above (or below) a
    threshold for `months` month ends in a row, `action` runs from the next day (not again while it runs)."""

    name: str
    metric: str
    action: Action
    scope: Literal["focal", "market"] = "focal"
    above: float | None = field(default=None, metadata={"min": -B.MAX_TOTAL_YUAN, "max": B.MAX_TOTAL_YUAN, "doc": "fire when the metric is above this"})
    below: float | None = field(default=None, metadata={"min": -B.MAX_TOTAL_YUAN, "max": B.MAX_TOTAL_YUAN, "doc": "fire when the metric is below this"})
    months: int = field(default=1, metadata={"min": 1, "max": B.MAX_COUNT, "doc": "consecutive month ends the condition must hold"})
    age_days: int = field(default=90, metadata={"min": 0, "max": 365, "doc": "stock age for aged_stock_share"})
    start: date | None = field(default=None, metadata={"doc": "first day checked (default: run.start_date)"})
    end: date | None = field(default=None, metadata={"doc": "last day checked (default: the end)"})

    def check(self) -> str | None:
        """A message when the condition is incomplete or does not fit the metric."""
        if self.metric not in METRICS:
            return f"unknown metric '{self.metric}'; allowed: {', '.join(METRICS)}"
        scopes = METRICS[self.metric][1]
        if self.scope not in scopes:
            return f"metric '{self.metric}' has no scope '{self.scope}'; allowed: {', '.join(scopes)}"
        if self.metric != "always" and (self.above is None) == (self.below is None):
            return f"give exactly one of 'above' or 'below' for metric '{self.metric}'"
        return None

    def holds(self, value: float) -> bool:
        """True when the condition holds for this metric value (NaN never holds)."""
        if self.metric == "always":
            return True
        if value != value:  # NaN
            return False
        return value > self.above if self.above is not None else value < self.below  # type: ignore[operator]

    def to_raw(self) -> dict[str, Any]:
        """The TOML-shaped table for this rule."""
        out: dict[str, Any] = {"name": self.name, "metric": self.metric, "scope": self.scope}
        for k in ("above", "below", "start", "end"):
            v = getattr(self, k)
            if v is not None:
                out[k] = v.isoformat() if isinstance(v, date) else v
        out["months"] = self.months
        if self.metric == "aged_stock_share":
            out["age_days"] = self.age_days
        out["action"] = self.action.to_raw()
        return out


def default_scope(event: Shock | Strategy | Action) -> dict[str, Any]:
    """The scope an event acts on: its kind's defaults, then the firm default, then what is given."""
    scope: dict[str, Any] = {"firm": "focal" if isinstance(event, (Strategy, Action)) else "all"}
    scope.update(type(event.params).DEFAULT_SCOPE)
    scope.update(event.scope.given())
    return scope
