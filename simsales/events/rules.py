"""Month-end metrics that risk rules watch, computed from the recorder's daily counters and model state.

Each metric covers the calendar month's simulated days (``m0`` .. ``m1``, inclusive) for the focal
firm or the whole market.  Market-scope values equal the recorder's monthly table
(`Recorder.monthly()`) for months inside the recorded window.  The names, descriptions and
scopes a scenario may use are `simsales.scenario.events.METRICS`; each has one function here,
registered with `@_metric` (a missing or unknown one fails at import).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from simsales.measures import FOCAL_SHARE, NEV_SHARE, ORDERS_PER_LEAD, SATISFACTION, Ratio
from simsales.scenario.events import METRICS, RiskRule

if TYPE_CHECKING:
    from simsales.model import MarketModel


@dataclass(frozen=True)
class Month:
    """The month a rule is checked for: days m0..m1 (inclusive); the previous month starts at prev_start."""

    model: MarketModel
    rule: RiskRule
    m0: int
    m1: int
    prev_start: int | None

    @property
    def focal(self) -> bool:
        return self.rule.scope == "focal"

    def total(self, counter: str) -> float:
        """A recorder flow summed over the month."""
        return float(self.model.recorder.flows[counter][self.m0 : self.m1 + 1].sum())

    def level(self, counter: str) -> float:
        """A recorder level on the month's last day."""
        return float(self.model.recorder.levels[counter][self.m1])


_FUNCTIONS: dict[str, Callable[[Month], float]] = {}


def _metric(name: str) -> Callable[[Callable[[Month], float]], Callable[[Month], float]]:
    if name not in METRICS:
        raise KeyError(f"risk-rule metric {name!r} is not in simsales.scenario.events.METRICS")

    def register(fn: Callable[[Month], float]) -> Callable[[Month], float]:
        _FUNCTIONS[name] = fn
        return fn

    return register


def _ratio(num: float, den: float) -> float:
    return num / den if den else float("nan")


def metric(model: MarketModel, rule: RiskRule, m0: int, m1: int, prev_start: int | None = None) -> float:
    """The value of a rule's metric for the month m0..m1 (day indices, inclusive); the previous month starts at prev_start."""
    return _FUNCTIONS[rule.metric](Month(model, rule, m0, m1, prev_start))


@_metric("always")
def _always(month: Month) -> float:
    return 1.0


@_metric("stock_coefficient")
def _stock_coefficient(month: Month) -> float:
    if month.focal:
        return _ratio(month.level("stock_focal"), month.total("stock_out_focal"))
    stock = month.level("stock_ICE") + month.level("stock_NEV")
    return _ratio(stock, month.total("stock_out_ICE") + month.total("stock_out_NEV"))


@_metric("aged_stock_share")
def _aged_stock_share(month: Month) -> float:
    net = month.model.network
    stock = net.stock[net.focal] if month.focal else net.stock
    return _ratio(float(stock[:, :, month.rule.age_days + 1 :].sum()), float(stock.sum()))


@_metric("attrition")
def _attrition(month: Month) -> float:
    net, sf = month.model.network, month.model.salesforce
    if month.focal:
        slots = net.focal[sf.dealer]
        return _ratio(float(sf.weight[sf.last_leavers & slots].sum()), sf.headcount(slots))
    return _ratio(month.total("leavers"), month.level("headcount"))


@_metric("talent_gap")
def _talent_gap(month: Month) -> float:
    net, sf = month.model.network, month.model.salesforce
    slots = net.is_open[sf.dealer] & (net.focal[sf.dealer] if month.focal else True)  # a closed store has no vacancies
    return _ratio(sf.positions(slots) - sf.headcount(slots), sf.positions(slots))


@_metric("sales_change")
def _sales_change(month: Month) -> float:
    flow = "deliveries_focal" if month.focal else "deliveries"
    m0, m1, prev = month.m0, month.m1, month.prev_start
    if prev is None or prev >= m0:
        return float("nan")
    this = month.total(flow) / (m1 + 1 - m0)
    before = float(month.model.recorder.flows[flow][prev:m0].sum()) / (m0 - prev)
    return _ratio(this, before) - 1.0


def _share(measure: Ratio) -> Callable[[Month], float]:
    return lambda month: measure.value(month.total)


for _name, _measure in (
    ("market_share", FOCAL_SHARE),
    ("nev_share", NEV_SHARE),
    ("satisfaction", SATISFACTION),
    ("lead_conversion", ORDERS_PER_LEAD),
):
    _metric(_name)(_share(_measure))

if set(_FUNCTIONS) != set(METRICS):
    raise KeyError(f"risk-rule metrics without a function: {sorted(set(METRICS) - set(_FUNCTIONS))}")
