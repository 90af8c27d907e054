"""Typed, frozen description of a simulated market: the Python door to a scenario file.

Every field is required: the values live in the TOML files (one source of truth), and
`simsales.scenario.load_scenario()` turns them into these objects.  Field metadata
carries the allowed range, which the loader checks before any simulation starts.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from simsales.scenario import bounds as B
from simsales.scenario.build import apply_overrides
from simsales.scenario.events import RiskRule, Shock, Strategy

POWERTRAINS = ("BEV", "PHEV", "ICE")
BRAND_TYPES = ("domestic", "jv")
TIERS = ("tier1", "tier2", "lower")
AGE_BANDS = ("under25", "25_28", "29_35", "36_45", "46_plus")
#: Mean days per month: monthly rates (salaries, costs, cover months, tenure) are spread over days with it.
DAYS_PER_MONTH = 365.0 / 12.0
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def prob(doc: str = "") -> Any:
    """A probability or share in [0, 1]."""
    return field(metadata={"min": 0.0, "max": 1.0, "doc": doc})


def nonneg(doc: str = "", *, max: float) -> Any:
    """A count, price, rate or duration that cannot be negative, up to `max` (see `bounds`)."""
    return field(metadata={"min": 0.0, "max": max, "doc": doc})


def positive(doc: str = "", *, max: float) -> Any:
    """A strictly positive quantity (a mean duration, a scale), up to `max` (see `bounds`)."""
    return field(metadata={"min": 0.0, "exclusive_min": True, "max": max, "doc": doc})


def free(doc: str = "", *, bound: float = B.MAX_UTILITY) -> Any:
    """A utility weight or shift: a real number in [-bound, bound] (`exp()` of it stays finite)."""
    return field(metadata={"min": -bound, "max": bound, "doc": doc})


@dataclass(frozen=True)
class RunSpec:
    """Horizon and size of one run."""

    start_date: date = field(metadata={"min": B.MIN_START_DATE, "max": B.MAX_START_DATE, "doc": "first recorded day"})
    days: int = positive("recorded days from start_date", max=B.MAX_HORIZON_DAYS)
    warmup_days: int = nonneg("days simulated before start_date and not recorded", max=B.MAX_HORIZON_DAYS)
    n_consumers: int = positive("consumer agents in the population", max=B.MAX_CONSUMERS)
    real_population: float = positive("real prospective-buyer households the population stands for", max=B.MAX_REAL_POPULATION)
    seed: int = nonneg("default seed when none is given", max=B.MAX_SEED)


@dataclass(frozen=True)
class Product:
    """One model in the catalogue, sold at list price in yuan."""

    id: str
    powertrain: Literal["BEV", "PHEV", "ICE"]
    brand_type: Literal["domestic", "jv"]
    price: float = positive("list price, yuan, VAT included", max=B.MAX_YUAN)
    appeal: float = free("alternative-specific utility constant")
    winter_range_loss: float = prob("share of range lost in winter (0 for ICE)")


@dataclass(frozen=True)
class PopulationSpec:
    """Who the consumers are: demographics, tastes, car ownership and market entry."""

    age_shares: dict[str, float] = field(metadata={"keys": AGE_BANDS, "simplex": True})
    tier_shares: dict[str, float] = field(metadata={"keys": TIERS, "simplex": True})
    owner_share: float = prob("households that own a car (replacement / trade-in candidates)")
    entry_rate_owner: float = nonneg("market entries per owner household per year", max=B.MAX_RATE_PER_YEAR)
    entry_rate_nonowner: float = nonneg("market entries per non-owner household per year", max=B.MAX_RATE_PER_YEAR)
    young_entry_mult: float = nonneg("entry-rate multiplier for buyers under 36", max=B.MAX_FACTOR)
    lower_tier_entry_mult: float = nonneg("entry-rate multiplier for lower-tier households", max=B.MAX_FACTOR)
    online_research_prob: float = prob("probability an entrant researches online first (36+)")
    online_research_prob_young: float = prob("same for buyers under 36")
    nev_wtp_mean: float = free("mean premium share a consumer would pay for an NEV", bound=10.0)
    nev_wtp_sd: float = nonneg("spread of that premium across consumers", max=10.0)
    nev_wtp_tier1_shift: float = free("shift of the NEV premium in tier-1 cities", bound=10.0)
    nev_wtp_lower_shift: float = free("shift of the NEV premium in lower tiers", bound=10.0)
    nev_wtp_young_shift: float = free("shift of the NEV premium for buyers under 36", bound=10.0)
    price_sensitivity: float = positive("utility lost per 100,000 yuan of net price", max=B.MAX_UTILITY)
    price_sensitivity_sd: float = nonneg("log-normal spread of price sensitivity", max=10.0)
    lower_tier_price_mult: float = positive("price-sensitivity multiplier in lower tiers", max=B.MAX_FACTOR)
    previous_group_known: float = prob("owners whose previous car came from a modelled dealer group")
    nev_wtp_trend_per_year: float = free("initial yearly rise of the BEV taste trend, the NEV premium (0 at the trend origin)", bound=B.MAX_TREND)
    demand_trend_per_year: float = field(
        metadata={"min": -1.0, "exclusive_min": True, "max": B.MAX_TREND, "doc": "yearly growth of market entry (0 at the trend origin)"}
    )
    nev_wtp_trend_ceiling: float = field(metadata={"min": 0.0, "exclusive_min": True, "max": 0.9, "doc": "largest NEV taste shift the logistic adoption path reaches (premium share)"})
    phev_wtp_trend_ratio: float = nonneg("PHEV taste trend's initial rate relative to BEV's (nev_wtp_trend_per_year)", max=10.0)
    nev_premium_max: float = field(metadata={"min": 0.0, "exclusive_min": True, "max": 0.95, "doc": "ceiling of a consumer's NEV premium, a share of list price (soft cap below 1)"})
    anticipation_days: int = nonneg("days ahead consumers foresee an announced policy price rise (0: no anticipation)", max=365)
    anticipation_weight: float = nonneg("speed-up of in-market journeys per utility unit of saving lost to a foreseen policy change", max=100.0)
    subsidy_entry_pull: float = nonneg("extra market entry per utility unit of trade-in subsidy an entrant can claim", max=100.0)
    trend_origin: date | None = field(
        default=None, metadata={"min": B.MIN_START_DATE, "max": B.MAX_START_DATE, "doc": "date the trends are zero (default: run.start_date)"}
    )
    seasonal_purchase: dict[str, float] = field(
        default_factory=lambda: dict.fromkeys(MONTHS, 1.0),
        metadata={
            "keys": MONTHS,
            "range": (0.2, 3.0),
            "complete": True,
            "doc": "odds of buying rather than waiting on a decision day, by calendar month (1 = no season)",
        },
    )


@dataclass(frozen=True)
class StoreFormat:
    """A store format (4S, direct store, flagship, community store, mobile van)."""

    name: str
    share: float = prob("share of the network's stores")
    products: tuple[str, ...] = field(metadata={"doc": "product ids this format sells"})
    staff: float = positive("sales staff at a full-size store", max=B.MAX_STAFF)
    direct: bool = field(metadata={"doc": "agency/direct store: no manufacturer push"})
    attractiveness: float = free("utility of the format when a consumer picks a store")
    push_ratio: float = nonneg("manufacturer wholesale push vs the store's own order", max=B.MAX_PUSH)
    replenish_days: int = nonneg("replenishment lead time in days", max=B.MAX_REPLENISH_DAYS)
    stock_cover_months: float = nonneg("months of sales the store aims to hold", max=120.0)
    financing_rate: float = nonneg("annual financing cost of stock", max=1.0)
    base_discount: float = prob("discount off list price")
    markdown_age_days: int = nonneg("stock older than this is marked down", max=B.MAX_STEP_DAYS)
    markdown: float = prob("markdown on aged stock")
    response_minutes: float = nonneg("mean minutes until an online lead is answered", max=B.MAX_MINUTES)
    info_handover: float = prob("share of online inquiry information that reaches the store")
    acquisition_per_lead: float = nonneg("marketing spend per lead, yuan", max=B.MAX_YUAN)
    fixed_cost_month: float = nonneg("rent and overheads per store and month, yuan", max=B.MAX_YUAN)
    margin: float = prob("gross margin on list price before discounts")


@dataclass(frozen=True)
class NetworkSpec:
    """The dealer network: formats, tiers, groups and the focal firm."""

    real_dealers: float = positive("real outlets in the market", max=B.MAX_REAL_POPULATION)
    min_dealers: int = positive("floor on dealer agents at small population sizes", max=B.MAX_DEALER_AGENTS)
    lower_tier_dealer_share: float = prob("share of stores in lower-tier cities")
    tier1_dealer_share: float = prob("share of stores in tier-1 cities")
    groups: int = positive("dealer groups; group 0 is the focal firm", max=B.MAX_COUNT)
    focal_store_share: float = prob("focal firm's share of stores")
    response_dispersion: float = nonneg("log-sd of online-lead response times among a format's stores (0: all answer in the format's mean)", max=5.0)
    formats: tuple[StoreFormat, ...] = field(metadata={"doc": "store formats"})


@dataclass(frozen=True)
class SalesforceSpec:
    """Salespeople: knowledge, capacity, incentives, tenure and turnover."""

    capacity_per_day: float = positive("store visits a salesperson serves well in a day", max=B.MAX_COUNT)
    knowledge_mean: float = prob("mean NEV product knowledge of an experienced salesperson")
    knowledge_sd: float = nonneg("spread of NEV knowledge", max=1.0)
    new_hire_knowledge: float = prob("NEV knowledge of a new hire")
    learning_per_month: float = nonneg("knowledge gained per month of tenure", max=1.0)
    onboarding_months: float = positive("months until a new hire sells at full productivity", max=1200.0)
    volume_weight: float = prob("weight of volume/stock KPIs in appraisal (rest: satisfaction)")
    monthly_attrition: float = prob("probability a salesperson leaves in a month")
    hire_prob_month: float = prob("probability a vacancy is filled in a month")
    initial_vacancy: float = prob("share of planned positions empty at the start")
    salary_month: float = nonneg("fixed pay per salesperson and month, yuan", max=B.MAX_YUAN)
    commission_per_unit: float = nonneg("commission per unit sold, yuan", max=B.MAX_YUAN)
    tenure_mean_months: float = positive("mean tenure of the initial salesforce", max=1200.0)


@dataclass(frozen=True)
class JourneyParams:
    """The buyer's journey from research to order."""

    research_days: float = positive("mean online research days", max=B.MAX_STEP_DAYS)
    # below a shape of 0.05 a gamma puts nearly all mass at zero, and the scale research_days /
    # shape overflows for denormal shapes (NaN research times)
    research_days_shape: float = field(metadata={"min": 0.05, "max": B.MAX_COUNT, "doc": "gamma shape of research duration"})
    research_dropout: float = prob("researchers who defer after research")
    online_lead_prob: float = prob("researchers who submit an online lead before visiting")
    extra_online_leads: float = nonneg("mean further stores an online researcher sends the same inquiry to", max=B.MAX_EXTRA_LEADS)
    showroom_sessions: float = positive("online showroom sessions per researcher", max=B.MAX_COUNT)
    response_tau_minutes: float = positive("response time at which 63% of online leads go cold", max=B.MAX_MINUTES)
    cold_lead_floor: float = prob("online leads that go cold even with instant response")
    visit_delay_days: float = positive("mean days from lead or decision to the store visit", max=B.MAX_STEP_DAYS)
    test_drive_base: float = free("logit of test-drive probability at neutral push")
    test_drive_push: float = free("logit shift of test drives per unit of volume weight")
    test_drive_nev_knowledge: float = free("logit shift of test drives per unit of the salesperson's product knowledge")
    no_test_drive_penalty: float = nonneg("utility lost when ordering without a test drive", max=B.MAX_UTILITY)
    outside_utility: float = free("utility of leaving the store without ordering")
    quote_search_value: float = nonneg(
        "utility a visitor at a negotiated-price store (format direct = false) expects from another store's quote: adds to leaving", max=B.MAX_UTILITY
    )
    # 0.1 is already near-deterministic substitution among products; below it the choice is a max
    product_nest_scale: float = field(
        metadata={"min": 0.1, "max": 1.0, "doc": "nested-logit scale of the store's products against leaving (1: plain logit)"}
    )
    repeat_visit_prob: float = prob("non-buyers who come back to the same store")
    switch_store_prob: float = prob("non-buyers who try another store")
    max_visits: int = positive("store visits after which a consumer defers", max=B.MAX_COUNT)
    decision_days: float = positive("mean days from test drive to decision", max=B.MAX_STEP_DAYS)
    delivery_days: float = positive("mean days from order to delivery when in stock", max=B.MAX_STEP_DAYS)
    backorder_cancel_prob: float = prob("orders cancelled when the car is not in stock")
    repeat_question_penalty: float = nonneg("utility lost when online information did not reach the store", max=B.MAX_UTILITY)
    overload_penalty: float = nonneg("utility lost per unit of salesperson overload", max=B.MAX_UTILITY)
    knowledge_weight: float = free("utility of NEVs per unit of salesperson NEV knowledge")
    wom_weight: float = free("utility per satisfaction point of a product's recent owners vs 80")
    referral_loyalty: float = prob("referred consumers who go to the referrer's group")
    previous_group_loyalty: float = free("utility of the group that sold the previous car")
    same_tier_store_prob: float = prob("consumers who shop in their own city tier")
    store_logsum_weight: float = nonneg("weight of a store format's expected product utility in store choice", max=B.MAX_UTILITY)


@dataclass(frozen=True)
class OwnershipParams:
    """After delivery: satisfaction, complaints, referrals, churn and replacement."""

    base_satisfaction: float = nonneg("satisfaction points with nothing going wrong", max=B.MAX_POINTS)
    satisfaction_sd: float = nonneg("spread of satisfaction", max=B.MAX_POINTS)
    misdescribe_base: float = nonneg("misdescription propensity: probability = base x volume weight x (1 - knowledge), capped at 1", max=10.0)
    misdescribe_penalty: float = nonneg("points lost when range was misdescribed", max=B.MAX_POINTS)
    winter_explain_knowledge: float = prob("probability a fully knowledgeable salesperson explains winter range")
    winter_penalty: float = nonneg("points lost per unit winter range loss when unaware", max=B.MAX_POINTS)
    repeat_question_penalty: float = nonneg("points lost when asked the same questions again", max=B.MAX_POINTS)
    delay_penalty_per_week: float = nonneg("points lost per week of delivery delay", max=B.MAX_POINTS)
    repair_wait_days: float = nonneg("mean repair wait in days", max=B.MAX_STEP_DAYS)
    repair_wait_penalty: float = nonneg("points lost per day of repair wait", max=B.MAX_POINTS)
    first_service_days: int = positive("days after delivery when churn, complaint and referral resolve", max=B.MAX_STEP_DAYS)
    complaint_base: float = prob("complaint probability at satisfaction 80")
    complaint_slope: float = nonneg("log-odds increase of complaint per point below 80", max=B.MAX_SLOPE)
    churn_base: float = prob("probability an owner is lost at satisfaction 80")
    churn_slope: float = nonneg("log-odds decrease of churn per point above 80", max=B.MAX_SLOPE)
    referral_base: float = prob("probability an owner refers a new buyer at satisfaction 80")
    referral_slope: float = nonneg("log-odds increase of referral per point above 80", max=B.MAX_SLOPE)
    very_satisfied_at: float = nonneg("satisfaction points counted as 'very satisfied'", max=B.MAX_POINTS)
    promoter_at: float = nonneg("satisfaction points counted as an NPS promoter", max=B.MAX_POINTS)
    detractor_below: float = nonneg("satisfaction points below which an owner is a detractor", max=B.MAX_POINTS)
    replacement_years: float = positive("mean years a new owner keeps the car", max=100.0)


@dataclass(frozen=True)
class InventoryParams:
    """Stock planning shared by all stores."""

    forecast_smoothing: float = prob("weight of today's sales in the daily demand forecast")
    order_every_days: int = positive("days between store replenishment orders", max=365)
    forecast_accuracy: float = prob("accuracy (1 - mean absolute relative error) of other firms' store demand forecasts")
    forecast_accuracy_focal: float = prob("accuracy of the focal firm's store demand forecasts")


@dataclass(frozen=True)
class PolicySpec:
    """Purchase tax and subsidies in force at the start."""

    purchase_tax_rate: float = prob("purchase tax on the pre-VAT price")
    vat_rate: float = prob("VAT included in list prices")
    nev_tax_exemption: float = prob("share of NEV purchase tax exempted (1 = full)")
    nev_tax_cap: float = nonneg("maximum exemption per car, yuan", max=B.MAX_YUAN)
    trade_in_subsidy_nev: float = nonneg("subsidy for trading in an old car for an NEV, yuan", max=B.MAX_YUAN)
    trade_in_subsidy_ice: float = nonneg("subsidy for trading in an old car for an ICE car, yuan", max=B.MAX_YUAN)


@dataclass(frozen=True)
class Scenario:
    """A complete, validated description of one simulated market."""

    name: str
    run: RunSpec
    products: tuple[Product, ...]
    population: PopulationSpec
    network: NetworkSpec
    salesforce: SalesforceSpec
    journey: JourneyParams
    ownership: OwnershipParams
    inventory: InventoryParams
    policy: PolicySpec
    description: str = ""
    shocks: tuple[Shock, ...] = ()  # timed market changes (simsales.scenario.events)
    strategies: tuple[Strategy, ...] = ()  # the focal firm's levers, rolled out from a date
    risk_rules: tuple[RiskRule, ...] = ()  # month-end condition -> action rules

    def replace(self, **dotted: Any) -> Scenario:
        """A copy with values changed by dotted path, e.g. replace(**{"journey.outside_utility": 1.0})."""
        return apply_overrides(self, dotted)

    def get(self, dotted: str) -> Any:
        """The value at a dotted path such as 'journey.outside_utility'."""
        obj: Any = self
        for part in dotted.split("."):
            obj = getattr(obj, part)
        return obj

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict (dates as ISO strings), e.g. for hashing or printing."""
        return _plain(self)


def _plain(value: Any) -> Any:
    if hasattr(value, "to_raw"):  # events serialise as their TOML tables
        return _plain(value.to_raw())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value
