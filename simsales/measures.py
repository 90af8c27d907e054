"""One definition of each measure derived from the recorder's counters.

Why: shares, conversion and profit are read by the KPIs (over the recorded window), by risk
rules (over the months they watch), by `Recorder.monthly` (per month) and by the CLI's
by-year table.  Each formula lives here once, as the counters it adds up; every reader passes
its own way of summing a counter over its own period.

A `Ratio` is a fraction (0..1); readers that show percent multiply by 100.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

#: Sum of one recorder counter over the reader's period.
Total = Callable[[str], float]


@dataclass(frozen=True)
class Ratio:
    """Sum of `numerator` counters over sum of `denominator` counters, over one period."""

    numerator: tuple[str, ...]
    denominator: tuple[str, ...]
    description: str

    def parts(self, total: Total) -> tuple[float, float]:
        """(numerator, denominator) summed with `total`."""
        return sum(total(name) for name in self.numerator), sum(total(name) for name in self.denominator)

    def value(self, total: Total) -> float:
        """The fraction, NaN when the denominator is zero."""
        num, den = self.parts(total)
        return float(num) / float(den) if den else float("nan")

    def series(self, frame: pd.DataFrame | Mapping[str, pd.Series]) -> pd.Series:
        """The fraction per row of a table of summed counters (NaN where the denominator is zero)."""
        num = sum(frame[name] for name in self.numerator)
        den = sum(frame[name] for name in self.denominator)
        return num / den.where(den > 0)


NEV_SHARE = Ratio(("deliveries_BEV", "deliveries_PHEV"), ("deliveries",), "NEV (BEV + PHEV) share of deliveries")
FOCAL_SHARE = Ratio(("deliveries_focal",), ("deliveries",), "the focal firm's share of deliveries")
SATISFACTION = Ratio(("satisfaction_sum",), ("deliveries",), "mean satisfaction score of buyers (0-100)")
ORDERS_PER_LEAD = Ratio(("orders",), ("online_leads", "walkin_leads"), "orders per lead (online inquiries and walk-ins)")
PLAN_COST_SHARE = Ratio(("strategy_cost", "risk_cost"), ("focal_revenue",), "strategy and risk-plan costs over the focal firm's revenue")

#: The focal firm's profit: its gross margin less its stores' operating costs and plan costs.
FOCAL_MARGIN = "focal_gross_margin"
FOCAL_COSTS = ("focal_operating_cost", "strategy_cost", "risk_cost")


def focal_profit(total: Total) -> float:
    """The focal firm's gross margin less its operating, strategy and risk-plan costs (yuan, agent scale)."""
    return total(FOCAL_MARGIN) - sum(total(name) for name in FOCAL_COSTS)


def focal_profit_series(frame: pd.DataFrame) -> pd.Series:
    """`focal_profit` per row of a table of summed counters."""
    return frame[FOCAL_MARGIN] - np.sum([frame[name] for name in FOCAL_COSTS], axis=0)
