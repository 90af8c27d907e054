"""Every KPI in one place, named by the id of the 2023 statistic it measures.

A KPI is computed from a finished (or running) model's counters over the recorded window; units
follow `calibration/targets_2023.toml` (percent as 0-100, sales in million units a year).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from simsales._paths import default_file
from simsales.agents.consumers import batches
from simsales.market.adoption import capped_premium, taste_shift, trend_origin
from simsales.measures import FOCAL_SHARE, NEV_SHARE, PLAN_COST_SHARE, SATISFACTION, focal_profit
from simsales.scenario.loader import read_toml
from simsales.scenario.schema import DAYS_PER_MONTH, POWERTRAINS, TIERS
from simsales.units import real_scale

if TYPE_CHECKING:
    from simsales.model import MarketModel


@dataclass(frozen=True)
class KPI:
    """A named measurement of a run."""

    id: str
    unit: str
    description: str
    compute: Callable[[MarketModel], float]


REGISTRY: dict[str, KPI] = {}


def kpi(id: str, unit: str, description: str) -> Callable[[Callable[[MarketModel], float]], Callable[[MarketModel], float]]:
    """Register a KPI function under a statistics id."""

    def wrap(fn: Callable[[MarketModel], float]) -> Callable[[MarketModel], float]:
        REGISTRY[id] = KPI(id, unit, description, fn)
        return fn

    return wrap


class Undefined(float):
    """A KPI value that cannot be computed: NaN that carries why (e.g. 'no buyers in the recorded window')."""

    reason: str

    def __new__(cls, reason: str) -> Undefined:
        value = super().__new__(cls, float("nan"))
        value.reason = reason
        return value


def note_of(value: float) -> str:
    """Why a KPI value is missing ('' for a number)."""
    if isinstance(value, Undefined):
        return value.reason
    return "" if np.isfinite(value) else "not computable in this run"


def _ratio(num: float, den: float, scale: float = 1.0, why: str = "its denominator is zero in the recorded window") -> float:
    return float(num) / float(den) * scale if den else Undefined(why)


NO_BUYERS = "no buyers (deliveries) in the recorded window"
NO_NEV_BUYERS = "no NEV buyers in the recorded window"
NO_ICE_BUYERS = "no ICE buyers in the recorded window"
NO_DAYS = "no recorded days"
NO_FIRST_SERVICES = "no owner reached a first service in the recorded window"
NO_SALES_FROM_STOCK = "no car sold from stock in the recorded window"
NO_SALESPEOPLE = "no salespeople in the recorded window"
NO_REVENUE = "no sales revenue in the recorded window"


def _t(m: MarketModel, name: str) -> float:
    return m.recorder.total(name)


def _annual_millions(m: MarketModel, flow: str) -> float:
    days = len(m.recorder.window(flow))
    scale = real_scale(m.spec.run)
    return _ratio(_t(m, flow) * scale * 365.0, days * 1e6, why=NO_DAYS)


# --- market ----------------------------------------------------------------------------------


@kpi("market.total_sales", "million units", "new cars delivered per year, in real units")
def _total_sales(m: MarketModel) -> float:
    return _annual_millions(m, "deliveries")


@kpi("market.nev_sales", "million units", "NEVs (BEV + PHEV) delivered per year")
def _nev_sales(m: MarketModel) -> float:
    return _annual_millions(m, "deliveries_BEV") + _annual_millions(m, "deliveries_PHEV")


@kpi("market.bev_sales", "million units", "BEVs delivered per year")
def _bev_sales(m: MarketModel) -> float:
    return _annual_millions(m, "deliveries_BEV")


@kpi("market.phev_sales", "million units", "PHEVs delivered per year")
def _phev_sales(m: MarketModel) -> float:
    return _annual_millions(m, "deliveries_PHEV")


#: Days at the start of a run discarded before a prior year can be compared (journeys settle).
SETTLE_DAYS = 120


def _growth(m: MarketModel, flows: tuple[str, ...]) -> float:
    """Percent growth of the recorded window over the 365 days before it (NaN without such a year)."""
    rec = m.recorder
    if rec.warmup_days < 365 + SETTLE_DAYS:
        return Undefined(f"warm-up shorter than a year + {SETTLE_DAYS} days ({365 + SETTLE_DAYS} needed, {rec.warmup_days} given)")
    current = sum(rec.window(f).sum() for f in flows) * 365.0 / max(len(rec.window(flows[0])), 1)
    prior = sum(rec.flows[f][rec.warmup_days - 365 : rec.warmup_days].sum() for f in flows)
    return _ratio(current - prior, prior, 100, "no deliveries in the year before the start date")


@kpi("market.total_sales_yoy", "%", "growth of deliveries over the year before the start date")
def _total_yoy(m: MarketModel) -> float:
    return _growth(m, ("deliveries",))


@kpi("market.nev_sales_yoy", "%", "growth of NEV deliveries over the prior year")
def _nev_yoy(m: MarketModel) -> float:
    return _growth(m, ("deliveries_BEV", "deliveries_PHEV"))


@kpi("market.bev_sales_yoy", "%", "growth of BEV deliveries over the prior year")
def _bev_yoy(m: MarketModel) -> float:
    return _growth(m, ("deliveries_BEV",))


@kpi("market.phev_sales_yoy", "%", "growth of PHEV deliveries over the prior year")
def _phev_yoy(m: MarketModel) -> float:
    return _growth(m, ("deliveries_PHEV",))


@kpi("market.nev_share", "%", "NEV share of deliveries")
def _nev_share(m: MarketModel) -> float:
    return _ratio(*NEV_SHARE.parts(lambda name: _t(m, name)), 100, NO_BUYERS)


@kpi("market.domestic_brand_share", "%", "domestic-brand share of deliveries")
def _domestic(m: MarketModel) -> float:
    return _ratio(_t(m, "deliveries_domestic"), _t(m, "deliveries"), 100, NO_BUYERS)


@kpi("market.lower_tier_share", "%", "share of deliveries to lower-tier households")
def _lower_tier(m: MarketModel) -> float:
    return _ratio(_t(m, "deliveries_lower_tier"), _t(m, "deliveries"), 100, NO_BUYERS)


@kpi("market.lower_tier_store_sales_ratio", "x", "deliveries per lower-tier store vs per upper-tier store")
def _lower_store_ratio(m: MarketModel) -> float:
    lower = m.network.tier == TIERS.index("lower")
    per_store = m.recorder.dealer_deliveries
    if lower.all() or not lower.any():
        return Undefined("the network has no lower-tier or no upper-tier stores")
    return _ratio(per_store[lower].mean(), per_store[~lower].mean(), why="no deliveries at upper-tier stores")


@kpi("policy.trade_in_share", "%", "deliveries to buyers trading in a car")
def _trade_in(m: MarketModel) -> float:
    return _ratio(_t(m, "deliveries_trade_in"), _t(m, "deliveries"), 100, NO_BUYERS)


@kpi("focal.market_share", "%", "focal firm's share of deliveries")
def _focal_share(m: MarketModel) -> float:
    return _ratio(*FOCAL_SHARE.parts(lambda name: _t(m, name)), 100, NO_BUYERS)


def _annual_billions_yuan(m: MarketModel, total: float) -> float:
    days = len(m.recorder.window("revenue"))
    scale = real_scale(m.spec.run)
    return _ratio(total * scale * 365.0, days * 1e9, why=NO_DAYS)


@kpi("focal.gross_margin", "billion yuan", "focal firm's gross margin on its orders per year (list price x (margin - discount))")
def _focal_margin(m: MarketModel) -> float:
    return _annual_billions_yuan(m, _t(m, "focal_gross_margin"))


@kpi("focal.profit", "billion yuan", "focal firm's gross margin less its stores' operating, strategy and risk-plan costs, per year")
def _focal_profit(m: MarketModel) -> float:
    return _annual_billions_yuan(m, focal_profit(lambda name: _t(m, name)))


# --- journey ---------------------------------------------------------------------------------


@kpi("journey.online_research_share", "%", "market entrants who research online first")
def _online_research(m: MarketModel) -> float:
    return _ratio(_t(m, "entries_online"), _t(m, "entries"), 100, "no market entries in the recorded window")


@kpi("journey.online_decision_days", "days", "mean length of online research")
def _decision_days(m: MarketModel) -> float:
    return _ratio(_t(m, "research_days_sum"), _t(m, "research_done"), why="no online research finished in the recorded window")


@kpi("journey.store_visits", "visits", "store visits per buyer before the order")
def _store_visits(m: MarketModel) -> float:
    return _ratio(_t(m, "buyer_visits_sum"), _t(m, "deliveries"), why=NO_BUYERS)


#: Days a cohort is followed before the end of the window: a test drive is decided within days,
#: a lead's journey (research, visits, test drive, decision) within a few months.
FOLLOW_UP_DAYS = {"store visit": 30, "test drive": 30, "lead": 90}


@kpi("journey.test_drive_rate", "%", "store visitors (per store) who test-drive, counted over the visitors' cohort")
def _td_rate(m: MarketModel) -> float:
    drives, visitors = m.recorder.cohort_ratio("visitor_test_drives", "store_visitors", FOLLOW_UP_DAYS["store visit"])
    return _ratio(drives, visitors, 100, "no store visitors in the recorded window")


@kpi("journey.test_drive_to_order", "%", "test drives followed by an order, counted over the test drives' cohort")
def _td_to_order(m: MarketModel) -> float:
    orders, drives = m.recorder.cohort_ratio("test_drive_orders", "test_drives", FOLLOW_UP_DAYS["test drive"])
    return _ratio(orders, drives, 100, "no test drives in the recorded window")


@kpi("journey.lead_conversion", "%", "orders per lead (online inquiries and walk-ins), counted over the leads' cohort")
def _lead_conversion(m: MarketModel) -> float:
    rec = m.recorder
    orders, online = rec.cohort_ratio("lead_orders", "online_leads", FOLLOW_UP_DAYS["lead"])
    _, walk_in = rec.cohort_ratio("lead_orders", "walkin_leads", FOLLOW_UP_DAYS["lead"])
    return _ratio(orders, online + walk_in, 100, "no leads in the recorded window")


def _format_conversion(m: MarketModel, stores: np.ndarray) -> float:
    orders, leads = m.recorder.dealer_cohort_ratio(stores, FOLLOW_UP_DAYS["lead"])
    return _ratio(orders, leads, 100, "no leads at these stores in the recorded window")


@kpi("journey.lead_conversion_nev_direct", "%", "lead conversion at NEV direct stores")
def _conv_direct(m: MarketModel) -> float:
    return _format_conversion(m, m.network.direct)


@kpi("journey.lead_conversion_ice_dealer", "%", "lead conversion at franchised dealers selling ICE cars")
def _conv_ice(m: MarketModel) -> float:
    sells_ice = m.network.sells[:, ~m.catalogue.is_nev].any(axis=1)
    return _format_conversion(m, ~m.network.direct & sells_ice)


@kpi("journey.dealers_online_conversion_below_15", "%", "real outlets whose online-lead conversion is below 15%")
def _below_15(m: MarketModel) -> float:
    """Stores weighted by the real outlets each stands for, so a scenario's new stores count as the outlets they open."""
    rec = m.recorder
    has = rec.dealer_online_leads > 0
    conv = rec.dealer_online_orders[has] / rec.dealer_online_leads[has]
    w = m.network.outlet_weight[has]
    return _ratio(w[conv < 0.15].sum(), w.sum(), 100, "no store received an online lead in the recorded window")


@kpi("journey.repeat_questions_after_online", "%", "online-lead visitors asked the same questions again in store")
def _repeat_questions(m: MarketModel) -> float:
    return _ratio(_t(m, "repeat_questions"), _t(m, "online_lead_visits"), 100, "no visits after an online lead in the recorded window")


@kpi("journey.online_lead_capture", "%", "online leads per online showroom session")
def _online_capture(m: MarketModel) -> float:
    return _ratio(_t(m, "online_leads"), _t(m, "showroom_sessions"), 100, "no online showroom sessions in the recorded window")


@kpi("journey.sales_cycle_days", "days", "days from first lead to delivery")
def _cycle(m: MarketModel) -> float:
    return _ratio(_t(m, "cycle_days_sum"), _t(m, "deliveries"), why=NO_BUYERS)


# --- consumers -------------------------------------------------------------------------------


@kpi("consumer.age_25_35_share", "%", "buyers aged 25-35")
def _age_25_35(m: MarketModel) -> float:
    return _ratio(_t(m, "deliveries_25_35"), _t(m, "deliveries"), 100, NO_BUYERS)


@kpi("consumer.gen_z_share", "%", "Gen Z buyers")
def _gen_z(m: MarketModel) -> float:
    return _ratio(_t(m, "deliveries_genz"), _t(m, "deliveries"), 100, NO_BUYERS)


@kpi("consumer.nev_premium_willing", "%", "consumers who would pay at least a 10% premium for an NEV (mid-window)")
def _premium(m: MarketModel) -> float:
    spec, run = m.spec.population, m.spec.run
    mid_day = run.start_date + timedelta(days=len(m.recorder.window("deliveries")) // 2)
    years = (mid_day - trend_origin(spec, run.start_date)).days / 365.0
    shift = taste_shift(spec, years)[POWERTRAINS.index("BEV")]
    wtp, willing = m.population.nev_wtp, 0
    for rows in batches(len(wtp)):  # in batches: the float64 temporaries stay small at any population size
        willing += int(np.count_nonzero(capped_premium(wtp[rows] + shift, spec.nev_premium_max) >= 0.10))
    return willing / len(wtp) * 100


@kpi("consumer.winter_range_unaware", "%", "NEV buyers not told about winter range loss")
def _winter(m: MarketModel) -> float:
    return _ratio(_t(m, "winter_unaware"), _t(m, "deliveries_BEV") + _t(m, "deliveries_PHEV"), 100, NO_NEV_BUYERS)


@kpi("consumer.misdescribed_range", "%", "buyers told inaccurate range or consumption figures")
def _misdescribed(m: MarketModel) -> float:
    return _ratio(_t(m, "misdescribed"), _t(m, "deliveries"), 100, NO_BUYERS)


@kpi("consumer.very_satisfied", "%", "buyers 'very satisfied'")
def _very_satisfied(m: MarketModel) -> float:
    return _ratio(_t(m, "very_satisfied"), _t(m, "deliveries"), 100, NO_BUYERS)


@kpi("consumer.satisfaction", "points", "mean satisfaction at delivery")
def _satisfaction(m: MarketModel) -> float:
    return _ratio(*SATISFACTION.parts(lambda name: _t(m, name)), why=NO_BUYERS)


@kpi("consumer.nps", "points", "promoters minus detractors among buyers")
def _nps(m: MarketModel) -> float:
    return _ratio(_t(m, "promoters") - _t(m, "detractors"), _t(m, "deliveries"), 100, NO_BUYERS)


@kpi("consumer.churn", "%", "owners lost as customers by their first service")
def _churn(m: MarketModel) -> float:
    return _ratio(_t(m, "churned"), _t(m, "first_services"), 100, NO_FIRST_SERVICES)


@kpi("consumer.referral_rate", "%", "deliveries to buyers referred by an owner")
def _referral(m: MarketModel) -> float:
    return _ratio(_t(m, "deliveries_referred"), _t(m, "deliveries"), 100, NO_BUYERS)


@kpi("consumer.repurchase", "%", "replacement buyers who return to the group that sold their last car")
def _repurchase(m: MarketModel) -> float:
    return _ratio(_t(m, "repurchase_same"), _t(m, "repurchase_known"), 100, "no replacement buyer with a known previous dealer group")


# --- salesforce ------------------------------------------------------------------------------


@kpi("talent.complaints_per_1000_industry", "per 1000", "complaints per 1000 owners at first service")
def _complaints(m: MarketModel) -> float:
    return _ratio(_t(m, "complaints"), _t(m, "first_services"), 1000, NO_FIRST_SERVICES)


@kpi("talent.units_per_person_month", "units", "orders per salesperson and month")
def _units_per_person(m: MarketModel) -> float:
    heads = m.recorder.window("headcount")
    months = len(heads) / DAYS_PER_MONTH
    return _ratio(_t(m, "orders"), heads.mean() * months, why=NO_SALESPEOPLE) if len(heads) else Undefined(NO_DAYS)


@kpi("talent.battery_explain_share", "%", "salespeople with NEV knowledge of at least 0.5")
def _battery(m: MarketModel) -> float:
    sf = m.salesforce
    return _ratio(sf.headcount(sf.knowledge >= 0.5), sf.headcount(), 100, "no salespeople at the end of the run")


@kpi("talent.talent_gap", "%", "planned sales positions that are vacant")
def _gap(m: MarketModel) -> float:
    rec = m.recorder
    return _ratio(rec.window("positions").sum() - rec.window("headcount").sum(), rec.window("positions").sum(), 100, "no planned sales positions")


@kpi("talent.annual_attrition", "%", "salespeople leaving per year, per average headcount")
def _attrition(m: MarketModel) -> float:
    heads = m.recorder.window("headcount")
    return _ratio(_t(m, "leavers") * 365.0, heads.mean() * len(heads), 100, NO_SALESPEOPLE) if len(heads) else Undefined(NO_DAYS)


# --- inventory -------------------------------------------------------------------------------


def _stock_coefficient(m: MarketModel, segments: tuple[str, ...]) -> float:
    """Month-end stock over the month's sales, pooled over full months (a ratio of sums, so thin
    months at small population sizes do not bias it upwards)."""
    monthly = m.recorder.monthly()
    full = monthly[monthly["days"] >= 28]
    if full.empty:
        return Undefined("no full month (28+ days) in the recorded window")
    stock = sum(full[f"stock_{s}"].sum() for s in segments)
    sold = sum(full[f"stock_out_{s}"].sum() for s in segments)
    return _ratio(stock, sold, why=NO_SALES_FROM_STOCK)


def _turnover(m: MarketModel, segments: tuple[str, ...]) -> float:
    stock = sum(m.recorder.window(f"stock_{s}").mean() for s in segments)
    sold = sum(m.recorder.window(f"stock_out_{s}").mean() for s in segments)
    return _ratio(stock, sold, why=NO_SALES_FROM_STOCK)


@kpi("inventory.stock_coefficient", "months of sales", "month-end stock over the month's sales")
def _coef(m: MarketModel) -> float:
    return _stock_coefficient(m, ("ICE", "NEV"))


@kpi("inventory.stock_coefficient_ice", "months of sales", "stock coefficient of ICE cars")
def _coef_ice(m: MarketModel) -> float:
    return _stock_coefficient(m, ("ICE",))


@kpi("inventory.stock_coefficient_nev", "months of sales", "stock coefficient of NEVs")
def _coef_nev(m: MarketModel) -> float:
    return _stock_coefficient(m, ("NEV",))


@kpi("inventory.turnover_days", "days", "average stock over average daily sales")
def _turn(m: MarketModel) -> float:
    return _turnover(m, ("ICE", "NEV"))


@kpi("inventory.turnover_days_ice", "days", "turnover days of ICE cars")
def _turn_ice(m: MarketModel) -> float:
    return _turnover(m, ("ICE",))


@kpi("inventory.turnover_days_nev", "days", "turnover days of NEVs")
def _turn_nev(m: MarketModel) -> float:
    return _turnover(m, ("NEV",))


@kpi("inventory.age_at_sale_days", "days", "mean days in store stock of units sold")
def _age_at_sale(m: MarketModel) -> float:
    return _ratio(_t(m, "stock_age_sum_ICE") + _t(m, "stock_age_sum_NEV"), _t(m, "stock_out_ICE") + _t(m, "stock_out_NEV"), why=NO_SALES_FROM_STOCK)


# --- costs and prices ------------------------------------------------------------------------


@kpi("cost.acquisition_cost", "yuan", "marketing spend per buyer")
def _acq(m: MarketModel) -> float:
    return _ratio(_t(m, "acquisition_cost"), _t(m, "deliveries"), why=NO_BUYERS)


@kpi("cost.marketing_cost_ratio", "%", "marketing spend over revenue")
def _marketing_ratio(m: MarketModel) -> float:
    return _ratio(_t(m, "acquisition_cost"), _t(m, "revenue"), 100, NO_REVENUE)


@kpi("cost.sales_cost_ratio", "%", "salaries, commissions, stores, stock financing and strategy/risk-plan costs over revenue")
def _sales_cost_ratio(m: MarketModel) -> float:
    costs = ("salary_cost", "commission_cost", "fixed_cost", "financing_cost", "strategy_cost", "risk_cost")
    return _ratio(sum(_t(m, c) for c in costs), _t(m, "revenue"), 100, NO_REVENUE)


@kpi("cost.plan_cost_ratio", "%", "the focal firm's strategy and risk-plan costs over its revenue (0 in the baseline)")
def _plan_cost_ratio(m: MarketModel) -> float:
    return _ratio(*PLAN_COST_SHARE.parts(lambda name: _t(m, name)), 100, "no focal-firm revenue in the recorded window")


@kpi("pricing.nev_avg_price", "yuan", "mean transaction price of NEVs")
def _nev_price(m: MarketModel) -> float:
    return _ratio(_t(m, "nev_revenue"), _t(m, "deliveries_BEV") + _t(m, "deliveries_PHEV"), why=NO_NEV_BUYERS)


@kpi("pricing.nev_vs_ice_price_gap", "yuan", "mean ICE price minus mean NEV price")
def _gap_price(m: MarketModel) -> float:
    ice = _ratio(_t(m, "revenue") - _t(m, "nev_revenue"), _t(m, "deliveries_ICE"), why=NO_ICE_BUYERS)
    nev = _nev_price(m)
    for part in (ice, nev):
        if isinstance(part, Undefined):
            return part
    return ice - nev


NO_DECISIONS = "no purchase decisions in the recorded window"


@kpi(
    "pricing.product_price_elasticity",
    "elasticity",
    "own-price elasticity of a product's purchases at the decision, purchase-weighted over products (the choice model's, analytic)",
)
def _product_elasticity(m: MarketModel) -> float:
    response = m.recorder.price_response
    return _ratio(response[1, :-1].sum(), response[0, :-1].sum(), why=NO_DECISIONS)


@kpi("pricing.decision_price_elasticity", "elasticity", "elasticity of buying at all at the decision when every price rises 1% (the choice model's, analytic)")
def _decision_elasticity(m: MarketModel) -> float:
    return _ratio(m.recorder.price_response[1, -1], m.recorder.price_response[0, -1], why=NO_DECISIONS)


# --- tables ----------------------------------------------------------------------------------


def compute_kpis(model: MarketModel) -> dict[str, float]:
    """All registered KPIs of a model, in registry order; a value that cannot be computed is an
    `Undefined` NaN that says why (see `note_of`)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        out: dict[str, float] = {}
        for k in REGISTRY.values():
            value = k.compute(model)
            out[k.id] = value if isinstance(value, Undefined) else float(value)
        return out


def load_targets(path: str | Path | None = None) -> pd.DataFrame:
    """Targets as a DataFrame indexed by id (value, unit, kind, section, tolerance, weight, note)."""
    file = Path(path) if path is not None else default_file("calibration/targets_2023.toml")
    rows = [{"id": key, **entry} for key, entry in read_toml(file)["targets"].items()]
    return pd.DataFrame(rows).set_index("id")


def kpi_table(values: dict[str, float], targets: pd.DataFrame | None = None) -> pd.DataFrame:
    """Tidy table: id, value, target, rel_error, tolerance, within, unit, note (blank target for KPIs
    without one; `note` says why a value is missing, e.g. 'no buyers (deliveries) in the recorded window')."""
    targets = load_targets() if targets is None else targets
    rows = []
    for key, value in values.items():
        target = float(targets["value"].get(key, np.nan)) if key in targets.index else np.nan
        tolerance = float(targets["tolerance"].get(key, np.nan)) if key in targets.index else np.nan
        rel = (value - target) / abs(target) if np.isfinite(target) and target != 0 else np.nan
        rows.append(
            {
                "id": key,
                "value": value,
                "target": target,
                "rel_error": rel,
                "tolerance": tolerance,
                "within": bool(np.isfinite(rel) and abs(rel) <= tolerance),
                "unit": REGISTRY[key].unit if key in REGISTRY else "",
                "note": note_of(value),
            }
        )
    return pd.DataFrame(rows)
