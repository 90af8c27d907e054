"""Daily counters of a run, preallocated, turned into tidy daily and monthly DataFrames.

Flows are summed over a day (and a month); levels are end-of-day readings (a month keeps its
last day).  Per-dealer and per-product totals cover the recorded window only.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

FLOWS = (
    "entries", "entries_online", "entries_referred", "research_done", "research_days_sum", "research_dropouts",
    "online_leads", "walkin_leads", "showroom_sessions", "leads_cold", "online_lead_visits",
    "repeat_questions", "visits", "store_visitors", "test_drives", "orders", "orders_after_td",
    "backorders", "cancellations", "drops", "switches", "unserved_visits",
    "deliveries", "deliveries_BEV", "deliveries_PHEV", "deliveries_ICE", "deliveries_domestic",
    "deliveries_lower_tier", "deliveries_focal", "deliveries_trade_in", "deliveries_referred",
    "deliveries_25_35", "deliveries_genz", "nev_revenue", "revenue", "buyer_visits_sum",
    "cycle_days_sum", "misdescribed", "winter_unaware", "satisfaction_sum", "very_satisfied",
    "promoters", "detractors", "first_services", "complaints", "churned", "referrals",
    "repurchase_known", "repurchase_same", "stock_out_ICE", "stock_out_NEV", "stock_age_sum_ICE",
    "stock_age_sum_NEV", "arrivals", "financing_cost", "acquisition_cost", "salary_cost",
    "commission_cost", "fixed_cost", "gross_margin", "leavers", "hires", "focal_orders",
    # timeline: shocks, strategies and risk rules (zero in the baseline)
    "focal_revenue", "stock_out_focal", "online_decisions", "trade_in_subsidies", "transfers",
    "strategy_cost", "risk_cost", "financing_subsidies", "reserve_drawn",
    # the focal firm's own margin and operating costs (focal.gross_margin, focal.profit)
    "focal_gross_margin", "focal_operating_cost",
)  # fmt: skip
LEVELS = ("stock_ICE", "stock_NEV", "headcount", "positions", "in_market", "stock_focal", "open_stores")
#: Ratios `Recorder.monthly()` derives from the flows and levels of each month.
DERIVED = ("stock_coefficient", "stock_coefficient_ICE", "stock_coefficient_NEV", "nev_share", "focal_share", "attrition", "days")


class Recorder:
    """Counts what happens each day; `daily()` and `monthly()` give the recorded window."""

    def __init__(self, total_days: int, warmup_days: int, start: date, n_dealers: int) -> None:
        self.total_days = total_days
        self.warmup_days = warmup_days
        self.start = start
        self.day = 0
        self.flows = {name: np.zeros(total_days) for name in FLOWS}
        self.levels = {name: np.zeros(total_days) for name in LEVELS}
        self.dealer_orders = np.zeros(n_dealers)
        self.dealer_leads = np.zeros(n_dealers)
        self.dealer_online_leads = np.zeros(n_dealers)
        self.dealer_online_orders = np.zeros(n_dealers)
        self.dealer_deliveries = np.zeros(n_dealers)

    def add(self, name: str, value: float) -> None:
        """Add to today's flow counter."""
        self.flows[name][self.day] += value

    def set(self, name: str, value: float) -> None:
        """Record today's level."""
        self.levels[name][self.day] = value

    def per_dealer(self, counter: np.ndarray, dealers: np.ndarray, weights: np.ndarray | None = None) -> None:
        """Add events (one per entry of `dealers`) to a per-dealer window total."""
        if self.day >= self.warmup_days and len(dealers):
            counter += np.bincount(dealers, weights=weights, minlength=len(counter))

    @property
    def recording(self) -> bool:
        """True once the start date is reached."""
        return self.day >= self.warmup_days

    def window(self, name: str) -> np.ndarray:
        """A counter over the recorded days only (those simulated so far)."""
        series = self.flows.get(name, self.levels.get(name))
        if series is None:
            raise KeyError(name)
        return series[self.warmup_days : max(self.day + 1, self.warmup_days)]

    def total(self, name: str) -> float:
        """Sum of a flow over the recorded days so far."""
        return float(self.window(name).sum())

    def daily(self) -> pd.DataFrame:
        """One row per recorded day: date, every flow and every level."""
        n = max(self.day + 1 - self.warmup_days, 0)
        data = {name: self.window(name)[:n] for name in (*FLOWS, *LEVELS)}
        frame = pd.DataFrame(data)
        frame.insert(0, "date", pd.to_datetime([self.start + timedelta(days=i) for i in range(n)]))
        return frame

    def monthly(self) -> pd.DataFrame:
        """One row per calendar month: flows summed, levels at month end, derived ratios."""
        daily = self.daily()
        if daily.empty:
            return daily
        month = daily["date"].dt.to_period("M")
        flows = daily.groupby(month)[list(FLOWS)].sum()
        levels = daily.groupby(month)[list(LEVELS)].last()
        out = pd.concat([flows, levels], axis=1)
        days = daily.groupby(month).size()
        sold_ice, sold_nev = out["stock_out_ICE"], out["stock_out_NEV"]
        out["stock_coefficient"] = (out["stock_ICE"] + out["stock_NEV"]) / (sold_ice + sold_nev).where(lambda s: s > 0)
        out["stock_coefficient_ICE"] = out["stock_ICE"] / sold_ice.where(sold_ice > 0)
        out["stock_coefficient_NEV"] = out["stock_NEV"] / sold_nev.where(sold_nev > 0)
        out["nev_share"] = 100 * (out["deliveries_BEV"] + out["deliveries_PHEV"]) / out["deliveries"].where(out["deliveries"] > 0)
        out["focal_share"] = 100 * out["deliveries_focal"] / out["deliveries"].where(out["deliveries"] > 0)
        out["attrition"] = out["leavers"] / out["headcount"].where(out["headcount"] > 0)
        out["days"] = days
        out.index = out.index.to_timestamp()
        out.index.name = "month"
        return out.reset_index()
