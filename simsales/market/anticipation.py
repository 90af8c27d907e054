"""Announced policy price changes as consumers foresee them: the saving lost by waiting.

Why: a subsidy that ends or a tax that rises on a known date brings purchases forward
(e.g. China's December 2025 rush before the NEV purchase-tax exemption halved; the 2009-2010
scrappage schemes in Europe and the US: Mian & Sufi 2012).  A model that sees only today's
price cannot show that.

How: the scenario's policy shocks (`purchase_tax`, `trade_in_subsidy`) are known in advance.
At construction the purchase tax (at catalogue list price) and the trade-in subsidy per product
are evaluated for every day of the run from the timeline's schedule; for each day, the saving
lost by waiting is the largest rise of tax plus fall of subsidy over the next
`population.anticipation_days` days.  `simsales.journey` turns it into a per-consumer utility
(price weight x loss, averaged over recent product shares) that lowers the value of waiting,
raises market entry and shortens the journey's delays.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from simsales.market.policy import PolicyState

if TYPE_CHECKING:
    from simsales.model import MarketModel


class Anticipation:
    """Per day and product: foreseen tax rise (`tax_loss`), subsidy fall (`subsidy_loss`) and today's subsidy."""

    def __init__(self, model: MarketModel) -> None:
        spec, cat = model.spec.population, model.catalogue
        days, horizon = model.total_days, int(spec.anticipation_days)
        tax = np.zeros((days, len(cat)))
        subsidy = np.zeros((days, len(cat)))
        policy = PolicyState.from_spec(model.spec.policy)
        scheduled = bool(model.timeline.policy_on(0))  # no policy event: the same policy every day
        for day in range(days if scheduled else 1):
            for name, value in model.timeline.policy_on(day).items():
                setattr(policy, name, value)
            tax[day] = policy.purchase_tax(cat, cat.list_price)
            subsidy[day] = policy.trade_in_subsidy(cat)
        if not scheduled:
            tax[1:], subsidy[1:] = tax[0], subsidy[0]
        self.subsidy = subsidy
        self.tax_loss = np.zeros_like(tax)
        self.subsidy_loss = np.zeros_like(tax)
        for ahead in range(1, min(horizon, days - 1) + 1):
            self.tax_loss[:-ahead] = np.maximum(self.tax_loss[:-ahead], tax[ahead:] - tax[:-ahead])
            self.subsidy_loss[:-ahead] = np.maximum(self.subsidy_loss[:-ahead], subsidy[:-ahead] - subsidy[ahead:])
        self.any_loss = (self.tax_loss > 0).any(axis=1) | (self.subsidy_loss > 0).any(axis=1)
        self.any_subsidy = (subsidy > 0).any(axis=1)
