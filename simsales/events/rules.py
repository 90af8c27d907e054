"""Month-end metrics that risk rules watch, computed from the recorder's daily counters and model state.

Each metric covers the calendar month's simulated days (``m0`` .. ``m1``, inclusive) for the focal
firm or the whole market.  Market-scope values equal the recorder's monthly table
(`Recorder.monthly()`) for months inside the recorded window.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from simsales.measures import FOCAL_SHARE, NEV_SHARE, ORDERS_PER_LEAD, SATISFACTION
from simsales.scenario.events import RiskRule

if TYPE_CHECKING:
    from simsales.model import MarketModel


def _sum(model: MarketModel, name: str, m0: int, m1: int) -> float:
    return float(model.recorder.flows[name][m0 : m1 + 1].sum())


def _ratio(num: float, den: float) -> float:
    return num / den if den else float("nan")


def metric(model: MarketModel, rule: RiskRule, m0: int, m1: int, prev_start: int | None = None) -> float:
    """The value of a rule's metric for the month m0..m1 (day indices, inclusive); the previous month starts at prev_start."""
    focal = rule.scope == "focal"
    rec, net, sf = model.recorder, model.network, model.salesforce
    name = rule.metric

    def period(counter: str) -> float:
        return _sum(model, counter, m0, m1)

    if name == "always":
        return 1.0
    if name == "stock_coefficient":
        if focal:
            return _ratio(rec.levels["stock_focal"][m1], _sum(model, "stock_out_focal", m0, m1))
        stock = rec.levels["stock_ICE"][m1] + rec.levels["stock_NEV"][m1]
        return _ratio(stock, _sum(model, "stock_out_ICE", m0, m1) + _sum(model, "stock_out_NEV", m0, m1))
    if name == "aged_stock_share":
        rows = net.focal if focal else np.ones(net.n, dtype=bool)
        stock = net.stock[rows]
        return _ratio(float(stock[:, :, rule.age_days + 1 :].sum()), float(stock.sum()))
    if name == "attrition":
        if focal:
            slots = net.focal[sf.dealer]
            return _ratio(float((sf.last_leavers & slots).sum()), float((sf.filled & slots).sum()))
        return _ratio(_sum(model, "leavers", m0, m1), rec.levels["headcount"][m1])
    if name == "talent_gap":
        slots = net.focal[sf.dealer] if focal else np.ones(sf.n_slots, dtype=bool)
        return _ratio(float((slots & ~sf.filled).sum()), float(slots.sum()))
    if name == "sales_change":
        flow = "deliveries_focal" if focal else "deliveries"
        if prev_start is None or prev_start >= m0:
            return float("nan")
        this = _sum(model, flow, m0, m1) / (m1 - m0 + 1)
        before = _sum(model, flow, prev_start, m0 - 1) / (m0 - prev_start)
        return _ratio(this, before) - 1.0
    if name == "market_share":
        return FOCAL_SHARE.value(period)
    if name == "nev_share":
        return NEV_SHARE.value(period)
    if name == "satisfaction":
        return SATISFACTION.value(period)
    if name == "lead_conversion":
        return ORDERS_PER_LEAD.value(period)
    raise KeyError(name)
