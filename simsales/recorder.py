"""Daily counters of a run, preallocated, turned into tidy daily and monthly DataFrames.

Flows are summed over a day (and a month); levels are end-of-day readings (a month keeps its
last day).  Per-dealer and per-product totals cover the recorded window only.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from simsales.measures import FOCAL_SHARE, NEV_SHARE

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
    "deliveries_focal_NEV",  # the focal firm's NEV deliveries (competitor price responses)
)  # fmt: skip
#: Outcomes counted on the day their cohort started, so a window ratio counts numerator and
#: denominator over the same people: test drives by the day of the first visit at that store,
#: orders by the day of the test drive before them, orders by the day of the journey's first lead.
COHORTS = ("visitor_test_drives", "test_drive_orders", "lead_orders")
PRODUCT_FLOWS = ("orders", "deliveries", "revenue")
LEVELS = ("stock_ICE", "stock_NEV", "headcount", "positions", "in_market", "stock_focal", "open_stores")
#: Ratios `Recorder.monthly()` derives from the flows and levels of each month.
DERIVED = ("stock_coefficient", "stock_coefficient_ICE", "stock_coefficient_NEV", "nev_share", "focal_share", "attrition", "days")


class Recorder:
    """Counts what happens each day; `daily()` and `monthly()` give the recorded window."""

    def __init__(self, total_days: int, warmup_days: int, start: date, n_dealers: int, n_products: int = 0) -> None:
        self.total_days = total_days
        self.warmup_days = warmup_days
        self.start = start
        self.day = 0
        self.flows = {name: np.zeros(total_days) for name in FLOWS}
        self.levels = {name: np.zeros(total_days) for name in LEVELS}
        self.cohorts = {name: np.zeros(total_days) for name in COHORTS}
        # leads and their orders by (the lead's day, store): conversion by store format
        self.dealer_cohorts = {name: np.zeros((total_days, n_dealers)) for name in ("leads", "lead_orders")}
        self.dealer_orders = np.zeros(n_dealers)
        self.dealer_leads = np.zeros(n_dealers)
        self.dealer_online_leads = np.zeros(n_dealers)
        self.dealer_online_orders = np.zeros(n_dealers)
        self.dealer_deliveries = np.zeros(n_dealers)
        # day x product: orders, deliveries and revenue (price paid) - the sales-by-product output
        self.product_flows = {name: np.zeros((total_days, n_products)) for name in PRODUCT_FLOWS}
        # the choice model's price response at the recorded decisions: per product Σ P(buy j) and
        # Σ P(buy j) x own elasticity; last column Σ P(buy) and Σ P(buy) x market elasticity
        self.price_response = np.zeros((2, n_products + 1))

    def add(self, name: str, value: float) -> None:
        """Add to today's flow counter."""
        self.flows[name][self.day] += value

    def add_to_cohorts(self, name: str, start_days: np.ndarray) -> None:
        """Count one outcome for each entry of `start_days` on the day its cohort started."""
        np.add.at(self.cohorts[name], start_days[start_days >= 0], 1.0)

    def add_to_dealer_cohorts(self, name: str, start_days: np.ndarray, dealers: np.ndarray) -> None:
        """`add_to_cohorts` by store: one event per (start day, dealer) pair."""
        keep = start_days >= 0
        np.add.at(self.dealer_cohorts[name], (start_days[keep], dealers[keep]), 1.0)

    def _cohort_days(self, follow_up_days: int) -> slice:
        """Recorded days whose cohorts count: all but the last `follow_up_days`, at least half the window."""
        recorded = max(self.day + 1 - self.warmup_days, 0)
        return slice(self.warmup_days, self.warmup_days + max(recorded - follow_up_days, (recorded + 1) // 2))

    def dealer_cohort_ratio(self, stores: np.ndarray, follow_up_days: int) -> tuple[float, float]:
        """(orders, leads) of the leads that `stores` received on the cohort days (see `cohort_ratio`)."""
        days = self._cohort_days(follow_up_days)
        return float(self.dealer_cohorts["lead_orders"][days][:, stores].sum()), float(self.dealer_cohorts["leads"][days][:, stores].sum())

    def cohort_ratio(self, outcome: str, starts: str, follow_up_days: int) -> tuple[float, float]:
        """(outcomes, starts) of the cohorts that started on recorded days, `follow_up_days` before the end.

        Why: a ratio of window totals counts the orders of test drives made before the window but
        not the test drives themselves, so it can exceed 100%.  Counting both by the cohort's start
        day cannot, and leaving the last `follow_up_days` out (never more than half the window) keeps
        cohorts whose outcomes the run has not reached yet from biasing the ratio down.
        """
        days = self._cohort_days(follow_up_days)
        return float(self.cohorts[outcome][days].sum()), float(self.flows[starts][days].sum())

    def set(self, name: str, value: float) -> None:
        """Record today's level."""
        self.levels[name][self.day] = value

    def per_dealer(self, counter: np.ndarray, dealers: np.ndarray, weights: np.ndarray | None = None) -> None:
        """Add events (one per entry of `dealers`) to a per-dealer window total."""
        if self.day >= self.warmup_days and len(dealers):
            counter += np.bincount(dealers, weights=weights, minlength=len(counter))

    def per_product(self, name: str, products: np.ndarray, weights: np.ndarray | None = None) -> None:
        """Add today's events (one per entry of `products`, or `weights` of them) to a per-product flow."""
        if len(products):
            row = self.product_flows[name][self.day]
            row += np.bincount(products, weights=weights, minlength=len(row))

    def add_price_response(self, bought: np.ndarray, own: np.ndarray, buy: float, market: float) -> None:
        """Add one batch of decisions' summed probabilities and elasticities (`market.choice.price_response`)."""
        self.price_response[0, :-1] += bought
        self.price_response[1, :-1] += own
        self.price_response[0, -1] += buy
        self.price_response[1, -1] += market

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

    def products_monthly(self, product_ids: tuple[str, ...], scale: float) -> pd.DataFrame:
        """Tidy product x month table of the recorded window, in real units (`scale` real per simulated).

        Columns: month (first day), product, orders and deliveries (cars), revenue (yuan: price
        paid to the store, VAT included, before purchase tax and trade-in subsidy) and
        avg_price (yuan per car delivered; NaN in a month without deliveries).
        """
        n = max(self.day + 1 - self.warmup_days, 0)
        dates = pd.to_datetime([self.start + timedelta(days=i) for i in range(n)])
        months = dates.to_period("M")
        frames = []
        for name in PRODUCT_FLOWS:
            table = pd.DataFrame(self.product_flows[name][self.warmup_days : self.warmup_days + n], columns=list(product_ids))
            frames.append(table.groupby(months).sum().stack().rename(name) * scale)
        out = pd.concat(frames, axis=1)
        out.index.names = ["month", "product"]
        out = out.reset_index()
        out["month"] = out["month"].dt.to_timestamp()
        out["avg_price"] = out["revenue"] / out["deliveries"].where(out["deliveries"] > 0)
        return out

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
        out["nev_share"] = 100 * NEV_SHARE.series(out)
        out["focal_share"] = 100 * FOCAL_SHARE.series(out)
        out["attrition"] = out["leavers"] / out["headcount"].where(out["headcount"] > 0)
        out["days"] = days
        out.index = out.index.to_timestamp()
        out.index.name = "month"
        return out.reset_index()
