"""Shocks, strategies and risk rules as typed, frozen data: the [[shocks]], [[strategies]] and
[[risk_rules]] sections of a scenario file.

An event is a *kind* (what changes, with its own typed parameters), a period (``start``, optional
inclusive ``end``, a linear ``ramp_days`` roll-out) and a ``scope`` (firm, city tier, store format,
product, powertrain, brand type).  In a file the kind's parameters sit next to the common keys::

    [[shocks]]
    kind = "list_price"
    start = 2024-03-01
    change = -0.10
    scope = { powertrain = "NEV" }

and in Python the same thing is ``Shock(ListPrice(change=-0.10), start=date(2024, 3, 1),
scope=Scope(powertrain=("NEV",)))``.  What each kind does to the model's levers lives in
`simsales.events.effects`; this module only describes and validates.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, ClassVar, Literal

from simsales.levers import LEVERS, POLICY_LEVERS
from simsales.scenario import bounds as B
from simsales.scenario.errors import ScenarioError, did_you_mean

#: The list sections of a scenario that hold dated events (each entry one event).
EVENT_SECTIONS = ("shocks", "strategies", "risk_rules")

POWERTRAIN_SETS: dict[str, tuple[str, ...]] = {"BEV": ("BEV",), "PHEV": ("PHEV",), "ICE": ("ICE",), "NEV": ("BEV", "PHEV")}
FIRMS = ("all", "focal", "others")
#: Scope keys that select stores, products or consumers; which apply depends on the kind's levers.
SCOPE_KEYS_BY_DIM = {"dealer": ("firm", "tier", "format"), "product": ("product", "powertrain", "brand_type"), "tier": ("tier",)}


# --- field helpers with defaults (ranges are checked by the loader) ------------------------------


def _prob(default: Any, doc: str) -> Any:
    return field(default=default, metadata={"min": 0.0, "max": 1.0, "doc": doc})


def _nonneg(default: Any, doc: str, *, max: float) -> Any:
    return field(default=default, metadata={"min": 0.0, "max": max, "doc": doc})


def _positive(default: Any, doc: str, *, max: float) -> Any:
    return field(default=default, metadata={"min": 0.0, "exclusive_min": True, "max": max, "doc": doc})


def _above(default: Any, bound: float, doc: str, *, max: float) -> Any:
    return field(default=default, metadata={"min": bound, "exclusive_min": True, "max": max, "doc": doc})


def _free(default: Any, doc: str, *, bound: float = B.MAX_UTILITY) -> Any:
    """A utility: any real number in [-bound, bound]."""
    return field(default=default, metadata={"min": -bound, "max": bound, "doc": doc})


# --- scope -----------------------------------------------------------------------------------


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

    @classmethod
    def from_raw(cls, value: Any, file: str, key: str, conv: Any) -> Scope:
        """Build from a TOML table; a single string is accepted where a list is expected."""
        if not isinstance(value, dict):
            raise ScenarioError(f"expected a table like {{ firm = \"focal\" }}, got {value!r}", file=file, key=key)
        raw = {k: ([v] if isinstance(v, str) and k != "firm" else v) for k, v in value.items()}
        return conv.dataclass(cls, raw, file, key)

    def given(self) -> dict[str, Any]:
        """The keys set explicitly."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if getattr(self, f.name) is not None}

    def to_raw(self) -> dict[str, Any]:
        """TOML-shaped dict of the keys given."""
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.given().items()}


# --- kinds: what an event changes --------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """Base of every shock and strategy kind: typed parameters plus class-level facts."""

    KIND: ClassVar[str] = ""
    FAMILY: ClassVar[str] = ""
    LEVERS: ClassVar[tuple[str, ...]] = ()
    DEFAULT_SCOPE: ClassVar[dict[str, Any]] = {}

    def check(self) -> str | None:
        """A message when parameters are inconsistent with each other (ranges are checked by the loader)."""
        return None

    def levers_set(self) -> tuple[str, ...]:
        """The levers this event actually changes (all of the kind's, unless parameters are optional)."""
        return self.LEVERS

    @classmethod
    def scope_keys(cls) -> tuple[str, ...]:
        """Scope keys that make sense for this kind's levers."""
        keys: list[str] = []
        for lever in cls.LEVERS:
            for dim in LEVERS[lever].dims if lever in LEVERS else ():
                keys += [k for k in SCOPE_KEYS_BY_DIM[dim] if k not in keys]
        return tuple(keys)

    @classmethod
    def summary(cls) -> str:
        """First line of the docstring."""
        return (cls.__doc__ or "").strip().splitlines()[0]


# Policy shocks


@dataclass(frozen=True)
class PurchaseTax(Kind):
    """NEV purchase-tax exemption level and cap (and the tax rate): full, halved, ended."""

    KIND: ClassVar[str] = "purchase_tax"
    FAMILY: ClassVar[str] = "policy"
    LEVERS: ClassVar[tuple[str, ...]] = ("nev_tax_exemption", "nev_tax_cap", "purchase_tax_rate")
    exemption: float | None = _prob(None, "share of NEV purchase tax exempted (1 full, 0.5 halved, 0 ended)")
    cap: float | None = _nonneg(None, "maximum exemption per car, yuan", max=B.MAX_YUAN)
    rate: float | None = _prob(None, "purchase tax on the pre-VAT price")

    def check(self) -> str | None:
        if self.exemption is None and self.cap is None and self.rate is None:
            return "give at least one of exemption, cap, rate"
        return None

    def levers_set(self) -> tuple[str, ...]:
        """Only the levers whose parameter is given: a cap from March and an exemption from June do not clash."""
        given = {"nev_tax_exemption": self.exemption, "nev_tax_cap": self.cap, "purchase_tax_rate": self.rate}
        return tuple(lever for lever, value in given.items() if value is not None)


@dataclass(frozen=True)
class TradeInSubsidy(Kind):
    """Trade-in (scrappage/replacement) subsidy for NEV and ICE buyers, with eligibility and an optional budget."""

    KIND: ClassVar[str] = "trade_in_subsidy"
    FAMILY: ClassVar[str] = "policy"
    LEVERS: ClassVar[tuple[str, ...]] = ("trade_in_subsidy_nev", "trade_in_subsidy_ice", "trade_in_eligible_share")
    nev: float = _nonneg(0.0, "yuan for trading in an old car and buying an NEV", max=B.MAX_YUAN)
    ice: float = _nonneg(0.0, "yuan for trading in an old car and buying an ICE car", max=B.MAX_YUAN)
    eligible_share: float = _prob(1.0, "share of car owners whose old car qualifies")
    budget: float | None = _positive(None, "real yuan available; the subsidy stops the day it is spent", max=B.MAX_TOTAL_YUAN)
    programme: str = field(default="", metadata={"doc": "shocks with the same programme draw on one budget (default: the shock's name)"})


@dataclass(frozen=True)
class LicencePlate(Kind):
    """Local licence-plate restrictions favouring NEVs (by default in tier-1 cities)."""

    KIND: ClassVar[str] = "licence_plate"
    FAMILY: ClassVar[str] = "policy"
    LEVERS: ClassVar[tuple[str, ...]] = ("utility_shift",)
    DEFAULT_SCOPE: ClassVar[dict[str, Any]] = {"tier": ("tier1",), "powertrain": ("NEV",)}
    nev_utility: float = _free(0.5, "utility advantage of an NEV (free plate) over an ICE car (plate lottery)")


# Pricing shocks


@dataclass(frozen=True)
class ListPrice(Kind):
    """Manufacturer list-price change (a price war); scope firm='others' is a competitor cut the focal firm does not follow."""

    KIND: ClassVar[str] = "list_price"
    FAMILY: ClassVar[str] = "pricing"
    LEVERS: ClassVar[tuple[str, ...]] = ("price_factor",)
    change: float = _above(-0.10, -1.0, "relative change of list prices (-0.10 = 10% cut)", max=10.0)


@dataclass(frozen=True)
class DealerDiscount(Kind):
    """Dealer discount policy: extra discount off list price."""

    KIND: ClassVar[str] = "dealer_discount"
    FAMILY: ClassVar[str] = "pricing"
    LEVERS: ClassVar[tuple[str, ...]] = ("discount_add",)
    change: float = field(default=0.05, metadata={"min": -1.0, "max": B.MAX_DISCOUNT, "doc": "discount added (share of list price)"})


@dataclass(frozen=True)
class FinancingRate(Kind):
    """Inventory financing-rate change."""

    KIND: ClassVar[str] = "financing_rate"
    FAMILY: ClassVar[str] = "pricing"
    LEVERS: ClassVar[tuple[str, ...]] = ("financing_rate_add",)
    change: float = field(default=0.02, metadata={"min": -1.0, "max": 1.0, "doc": "annual rate added (0.02 = +2 points)"})


# Demand shocks


@dataclass(frozen=True)
class Demand(Kind):
    """Consumer confidence: market entry rises or falls."""

    KIND: ClassVar[str] = "demand"
    FAMILY: ClassVar[str] = "demand"
    LEVERS: ClassVar[tuple[str, ...]] = ("demand_multiplier",)
    change: float = _above(-0.15, -1.0, "relative change of market entry (-0.15 = 15% fewer buyers; at most +50%, the entry ceiling)", max=B.MAX_DEMAND_CHANGE)


@dataclass(frozen=True)
class NevAffinity(Kind):
    """A shift in consumers' taste for NEVs."""

    KIND: ClassVar[str] = "nev_affinity"
    FAMILY: ClassVar[str] = "demand"
    LEVERS: ClassVar[tuple[str, ...]] = ("utility_shift",)
    DEFAULT_SCOPE: ClassVar[dict[str, Any]] = {"powertrain": ("NEV",)}
    utility: float = _free(0.3, "utility added to every NEV")

    @classmethod
    def scope_keys(cls) -> tuple[str, ...]:
        return ("tier",)


@dataclass(frozen=True)
class Preference(Kind):
    """A shift in consumers' taste for chosen products, powertrains or brand types."""

    KIND: ClassVar[str] = "preference"
    FAMILY: ClassVar[str] = "demand"
    LEVERS: ClassVar[tuple[str, ...]] = ("utility_shift",)
    utility: float = _free(0.3, "utility added to the products in scope")


# Supply shocks


@dataclass(frozen=True)
class DeliveryDelay(Kind):
    """Longer factory lead times for orders not in stock (and more cancellations)."""

    KIND: ClassVar[str] = "delivery_delay"
    FAMILY: ClassVar[str] = "supply"
    LEVERS: ClassVar[tuple[str, ...]] = ("delivery_delay_factor", "delay_cancel_factor")
    factor: float = _positive(2.0, "factory lead time multiplier", max=B.MAX_FACTOR)
    cancel_factor: float = _nonneg(1.0, "multiplier of cancellations of orders not in stock", max=B.MAX_FACTOR)


@dataclass(frozen=True)
class ProductionCut(Kind):
    """Production cut: the factory fills only part of stores' orders, and build-to-order waits grow."""

    KIND: ClassVar[str] = "production_cut"
    FAMILY: ClassVar[str] = "supply"
    LEVERS: ClassVar[tuple[str, ...]] = ("supply_factor", "delivery_delay_factor")
    cut: float = field(default=0.3, metadata={"min": 0.0, "max": 0.95, "doc": "share of store orders not built"})


@dataclass(frozen=True)
class StockPush(Kind):
    """Manufacturer pushes franchised stores' stock above their target."""

    KIND: ClassVar[str] = "stock_push"
    FAMILY: ClassVar[str] = "supply"
    LEVERS: ClassVar[tuple[str, ...]] = ("push_factor",)
    push: float = _positive(1.3, "multiplier of the push on stores' stock targets", max=B.MAX_PUSH)


# Talent shocks


@dataclass(frozen=True)
class AttritionSpike(Kind):
    """More salespeople leave each month (a talent exodus)."""

    KIND: ClassVar[str] = "attrition_spike"
    FAMILY: ClassVar[str] = "talent"
    LEVERS: ClassVar[tuple[str, ...]] = ("attrition_factor",)
    factor: float = _nonneg(2.5, "multiplier of monthly attrition", max=B.MAX_FACTOR)


@dataclass(frozen=True)
class HiringFreeze(Kind):
    """Vacancies are not (or less) filled."""

    KIND: ClassVar[str] = "hiring_freeze"
    FAMILY: ClassVar[str] = "talent"
    LEVERS: ClassVar[tuple[str, ...]] = ("hire_factor",)
    hiring: float = _prob(0.0, "share of normal hiring that still happens")


# Operations shocks


@dataclass(frozen=True)
class DataPlatformOutage(Kind):
    """Data-platform outage: lead routing and online information hand-over fail (default: focal firm)."""

    KIND: ClassVar[str] = "data_platform_outage"
    FAMILY: ClassVar[str] = "operations"
    LEVERS: ClassVar[tuple[str, ...]] = ("response_factor", "handover_factor", "ai_handled_share")
    DEFAULT_SCOPE: ClassVar[dict[str, Any]] = {"firm": "focal"}
    response_minutes: float = _positive(1440.0, "minutes until an unrouted lead is answered by hand", max=B.MAX_MINUTES)
    handover: float = _prob(0.0, "share of online information that still reaches the store")


# --- strategies: the focal firm's levers --------------------------------------------------------


@dataclass(frozen=True)
class OmnichannelPlatform(Kind):
    """Omnichannel data platform: online information reaches the store, leads routed to a store in minutes."""

    KIND: ClassVar[str] = "omnichannel_platform"
    FAMILY: ClassVar[str] = "digital"
    LEVERS: ClassVar[tuple[str, ...]] = ("handover_factor", "response_factor")
    info_sharing: float = _prob(0.95, "share of online inquiry information that reaches the store (plan 3.2: 95%)")
    response_minutes: float = _positive(5.0, "minutes until a routed lead is answered (plan 3.2: 5)", max=B.MAX_MINUTES)


@dataclass(frozen=True)
class AICustomerService(Kind):
    """AI customer service answers a share of online inquiries within minutes."""

    KIND: ClassVar[str] = "ai_customer_service"
    FAMILY: ClassVar[str] = "digital"
    LEVERS: ClassVar[tuple[str, ...]] = ("ai_handled_share", "ai_response_minutes")
    handled_share: float = _prob(0.7, "share of inquiries the AI handles (2.3: 32.6% today; 8.2: 70%)")
    response_minutes: float = _nonneg(3.0, "AI response time in minutes (1.3 benchmark: 3)", max=B.MAX_MINUTES)


@dataclass(frozen=True)
class AIRecommendation(Kind):
    """AI recommendation: better product match at the firm's stores (and product facts for salespeople)."""

    KIND: ClassVar[str] = "ai_recommendation"
    FAMILY: ClassVar[str] = "digital"
    LEVERS: ClassVar[tuple[str, ...]] = ("outside_utility_shift", "knowledge_boost")
    match_gain: float = _nonneg(0.3, "utility by which leaving without a match becomes less attractive", max=B.MAX_UTILITY)
    knowledge_boost: float = _prob(0.0, "NEV knowledge the tool adds in conversations")


@dataclass(frozen=True)
class VRShowroom(Kind):
    """VR/online showroom: more researchers leave a lead; a VR test drive partly replaces a real one online."""

    KIND: ClassVar[str] = "vr_showroom"
    FAMILY: ClassVar[str] = "digital"
    LEVERS: ClassVar[tuple[str, ...]] = ("online_lead_factor", "virtual_test_drive")
    lead_factor: float = _positive(1.3, "multiplier of lead capture per online showroom session (2.3: 3.2%; plan: 15%)", max=B.MAX_FACTOR)
    virtual_test_drive: float = _prob(0.5, "share of the no-test-drive penalty removed online")


@dataclass(frozen=True)
class OnlineOrdering(Kind):
    """Online ordering: a share of answered online leads decide and order online (online closed loop)."""

    KIND: ClassVar[str] = "online_ordering"
    FAMILY: ClassVar[str] = "digital"
    LEVERS: ClassVar[tuple[str, ...]] = ("online_order_share",)
    share: float = _prob(0.25, "answered online leads who decide online without a visit")


@dataclass(frozen=True)
class SalesAcademy(Kind):
    """Sales academy: monthly NEV training raises salespeople's knowledge."""

    KIND: ClassVar[str] = "sales_academy"
    FAMILY: ClassVar[str] = "talent"
    LEVERS: ClassVar[tuple[str, ...]] = ("training_per_month",)
    knowledge_per_month: float = _prob(0.03, "NEV knowledge gained per month of training (200 h a year, 5.4)")


@dataclass(frozen=True)
class Mentoring(Kind):
    """Mentoring: new hires reach full productivity sooner and learn NEV knowledge from their mentor while onboarding."""

    KIND: ClassVar[str] = "mentoring"
    FAMILY: ClassVar[str] = "talent"
    LEVERS: ClassVar[tuple[str, ...]] = ("onboarding_factor", "onboarding_learning")
    onboarding_months: float = _positive(3.0, "months of onboarding (5.4: from 6 to 3)", max=1200.0)
    knowledge_per_month: float = _prob(0.05, "NEV knowledge a new hire gains per onboarding month from the mentor (an assumption)")


@dataclass(frozen=True)
class IncentiveReform(Kind):
    """Incentive reform: less weight on volume, more on satisfaction, repurchase and referrals."""

    KIND: ClassVar[str] = "incentive_reform"
    FAMILY: ClassVar[str] = "talent"
    LEVERS: ClassVar[tuple[str, ...]] = ("volume_weight_factor", "referral_factor", "loyalty_shift")
    volume_weight: float = _prob(0.35, "weight of volume KPIs (5.4: satisfaction 30 + repurchase 20 + referrals 15 = 65% other)")
    referral_factor: float = _positive(1.0, "multiplier of owners' referrals from salespeople's follow-up (the referral weight)", max=B.MAX_FACTOR)
    loyalty: float = _free(0.0, "utility of returning to the firm's stores from salespeople's follow-up (the repurchase weight)")


@dataclass(frozen=True)
class CareerTracks(Kind):
    """Career tracks and a retention plan: fewer salespeople leave."""

    KIND: ClassVar[str] = "career_tracks"
    FAMILY: ClassVar[str] = "talent"
    LEVERS: ClassVar[tuple[str, ...]] = ("attrition_factor",)
    attrition_factor: float = _nonneg(0.5, "multiplier of monthly attrition (5.4: young attrition to below 15% a year)", max=B.MAX_FACTOR)


@dataclass(frozen=True)
class RetentionBonus(Kind):
    """Retention bonus: attrition falls while it is paid (a risk-plan action)."""

    KIND: ClassVar[str] = "retention_bonus"
    FAMILY: ClassVar[str] = "talent"
    LEVERS: ClassVar[tuple[str, ...]] = ("attrition_factor",)
    attrition_factor: float = _nonneg(0.6, "multiplier of monthly attrition", max=B.MAX_FACTOR)


@dataclass(frozen=True)
class StoreOpening:
    """Stores of one format the focal firm opens in one city tier."""

    format: str
    tier: Literal["tier1", "tier2", "lower"] = "lower"
    count: int = field(default=1, metadata={"min": 1, "max": B.MAX_COUNT, "doc": "real outlets to open (agents stand for them by their outlet weight)"})
    setup_cost: float = _nonneg(0.0, "set-up cost per real outlet, real yuan (booked as each tranche opens)", max=B.MAX_TOTAL_YUAN)


@dataclass(frozen=True)
class StoreNetwork(Kind):
    """Store-network redesign: the focal firm opens flagship, community and mobile-van stores (with their staff and costs)."""

    KIND: ClassVar[str] = "store_network"
    FAMILY: ClassVar[str] = "channel"
    LEVERS: ClassVar[tuple[str, ...]] = ()
    stores: tuple[StoreOpening, ...] = field(default=(), metadata={"doc": "stores to open; openings spread over ramp_days"})

    def check(self) -> str | None:
        return None if self.stores else "list at least one entry in 'stores'"


@dataclass(frozen=True)
class InventorySharing(Kind):
    """Inventory sharing (VMI): the firm's stores pool stock with weekly transfers and need less cover."""

    KIND: ClassVar[str] = "inventory_sharing"
    FAMILY: ClassVar[str] = "inventory"
    LEVERS: ClassVar[tuple[str, ...]] = ("stock_pool", "cover_factor")
    cover_factor: float = _positive(0.8, "multiplier of the months of sales a store holds", max=B.MAX_FACTOR)
    transfer_cost: float = _nonneg(1500.0, "yuan per car moved between stores", max=B.MAX_YUAN)


@dataclass(frozen=True)
class DemandForecasting(Kind):
    """AI demand forecasting: stores' forecast error shrinks to the target accuracy (fewer stock-outs and less aged stock), and they may hold less cover."""

    KIND: ClassVar[str] = "demand_forecasting"
    FAMILY: ClassVar[str] = "inventory"
    LEVERS: ClassVar[tuple[str, ...]] = ("forecast_error_factor", "cover_factor")
    accuracy: float | None = field(default=0.85, metadata={"min": 0.0, "max": 0.99, "doc": "forecast accuracy reached (5.2: 85%); none = unchanged"})
    cover_factor: float = _positive(1.0, "multiplier of the months of sales a store holds", max=B.MAX_FACTOR)


@dataclass(frozen=True)
class Clearance(Kind):
    """Clearance promotion: aged stock is sold at a discount (plus a financing subsidy) and not replaced until it is gone."""

    KIND: ClassVar[str] = "clearance"
    FAMILY: ClassVar[str] = "inventory"
    LEVERS: ClassVar[tuple[str, ...]] = ("clearance_discount", "clearance_age_days", "clearance_financing")
    discount: float = _prob(0.10, "extra discount off list price, on the aged units only")
    age_days: int = field(default=90, metadata={"min": 0, "max": 365, "doc": "stock older than this is cleared"})
    financing_subsidy: float = field(default=0.0, metadata={"min": 0.0, "max": 0.5, "doc": "financing subsidy (share of the price) on products being cleared (6.2)"})


@dataclass(frozen=True)
class FinancingSubsidy(Kind):
    """Buyer financing subsidy: the firm pays part of its buyers' car-loan interest (a lower effective price), paid per car sold."""

    KIND: ClassVar[str] = "financing_subsidy"
    FAMILY: ClassVar[str] = "pricing"
    LEVERS: ClassVar[tuple[str, ...]] = ("financing_subsidy",)
    share: float = field(default=0.03, metadata={"min": 0.0, "max": 0.5, "doc": "interest paid for the buyer, as a share of the car's price (0.03 ~ a 3-year loan at 2% a year)"})


@dataclass(frozen=True)
class TradeInProgramme(Kind):
    """Trade-in programme: a premium on the old car for owners who trade in at the firm's stores."""

    KIND: ClassVar[str] = "trade_in_programme"
    FAMILY: ClassVar[str] = "service"
    LEVERS: ClassVar[tuple[str, ...]] = ("trade_in_premium",)
    premium: float = _nonneg(6000.0, "yuan paid above the old car's value (5.3: 10% premium)", max=B.MAX_YUAN)


@dataclass(frozen=True)
class AfterSales(Kind):
    """After-sales speed and transparency: shorter repair waits at the firm's stores."""

    KIND: ClassVar[str] = "after_sales"
    FAMILY: ClassVar[str] = "service"
    LEVERS: ClassVar[tuple[str, ...]] = ("repair_wait_factor",)
    repair_wait_days: float = _nonneg(0.8, "mean repair wait in days (9.2: from 2.3 to 0.8)", max=B.MAX_STEP_DAYS)


@dataclass(frozen=True)
class UserCommunity(Kind):
    """User community and referral programme: owners refer more new buyers."""

    KIND: ClassVar[str] = "user_community"
    FAMILY: ClassVar[str] = "service"
    LEVERS: ClassVar[tuple[str, ...]] = ("referral_factor",)
    referral_factor: float = _positive(1.5, "multiplier of owners' propensity to refer", max=B.MAX_FACTOR)


@dataclass(frozen=True)
class Membership(Kind):
    """Membership points: owners come back to the firm and are lost less often."""

    KIND: ClassVar[str] = "membership"
    FAMILY: ClassVar[str] = "service"
    LEVERS: ClassVar[tuple[str, ...]] = ("loyalty_shift", "churn_factor")
    loyalty: float = _free(0.3, "utility of returning to the firm when replacing the car")
    churn_factor: float = _nonneg(0.85, "multiplier of owners lost at first service", max=B.MAX_FACTOR)


@dataclass(frozen=True)
class EcosystemPackages(Kind):
    """Ecosystem packages (charging, insurance): the firm's NEVs are worth more to buyers."""

    KIND: ClassVar[str] = "ecosystem_packages"
    FAMILY: ClassVar[str] = "service"
    LEVERS: ClassVar[tuple[str, ...]] = ("store_utility_shift",)
    DEFAULT_SCOPE: ClassVar[dict[str, Any]] = {"powertrain": ("NEV",)}
    utility: float = _free(0.2, "utility added to the products in scope at the firm's stores")


@dataclass(frozen=True)
class RiskReserve(Kind):
    """Risk reserve: a provision booked as a cost (share of sales or payroll) that later risk-rule costs are drawn from."""

    KIND: ClassVar[str] = "risk_reserve"
    FAMILY: ClassVar[str] = "risk"
    LEVERS: ClassVar[tuple[str, ...]] = ()


@dataclass(frozen=True)
class BusinessContinuity(Kind):
    """Business-continuity plan (dual active data centres): a platform outage at covered stores lasts at most recovery_days."""

    KIND: ClassVar[str] = "business_continuity"
    FAMILY: ClassVar[str] = "risk"
    LEVERS: ClassVar[tuple[str, ...]] = ()
    recovery_days: int = field(default=1, metadata={"min": 1, "max": B.MAX_HORIZON_DAYS, "doc": "days until fail-over restores routing (6.3: RTO 30 minutes)"})


SHOCK_KINDS: dict[str, type[Kind]] = {
    k.KIND: k
    for k in (
        PurchaseTax, TradeInSubsidy, LicencePlate, ListPrice, DealerDiscount, FinancingRate, Demand, NevAffinity,
        Preference, DeliveryDelay, ProductionCut, StockPush, AttritionSpike, HiringFreeze, DataPlatformOutage,
    )
}  # fmt: skip
STRATEGY_KINDS: dict[str, type[Kind]] = {
    k.KIND: k
    for k in (
        OmnichannelPlatform, AICustomerService, AIRecommendation, VRShowroom, OnlineOrdering, SalesAcademy, Mentoring,
        IncentiveReform, CareerTracks, RetentionBonus, StoreNetwork, InventorySharing, DemandForecasting, Clearance,
        TradeInProgramme, AfterSales, UserCommunity, Membership, EcosystemPackages, RiskReserve, BusinessContinuity,
        FinancingSubsidy,
    )
}  # fmt: skip
#: Shock kinds a risk rule may also take as its action: the firm's own prices (match a competitor's cut, discount).
PRICING_ACTION_KINDS: dict[str, type[Kind]] = {k.KIND: k for k in (ListPrice, DealerDiscount)}

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


# --- events -----------------------------------------------------------------------------------

#: Cost keys shared by strategies and risk-rule actions (real yuan; shares of the scope's sales or payroll).
COST_KEYS = ("setup_cost", "cost_month", "cost_share_of_sales", "cost_share_of_payroll")


@dataclass(frozen=True)
class Costs:
    """What a strategy or action costs; yuan are real (scaled to the simulated population)."""

    setup_cost: float = _nonneg(0.0, "one-off cost at the start, real yuan", max=B.MAX_TOTAL_YUAN)
    cost_month: float = _nonneg(0.0, "running cost per month while active, real yuan", max=B.MAX_TOTAL_YUAN)
    cost_share_of_sales: float = _prob(0.0, "running cost as a share of the firm's (scope's) sales revenue")
    cost_share_of_payroll: float = _prob(0.0, "running cost as a share of the firm's (scope's) salesforce pay")


class _Event:
    """Shared behaviour of Shock, Strategy and Action."""

    COMMON: ClassVar[tuple[str, ...]] = ()
    KINDS: ClassVar[dict[str, type[Kind]]] = {}
    OTHER_KINDS: ClassVar[tuple[dict[str, type[Kind]], str]] = ({}, "")
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

    @classmethod
    def _split(cls, value: Any, file: str, key: str, conv: Any) -> tuple[Kind, dict[str, Any]]:
        if not isinstance(value, dict):
            raise ScenarioError(f"expected a table, got {type(value).__name__}", file=file, key=key)
        kinds = cls.KINDS
        kind = value.get("kind")
        if kind is None:
            raise ScenarioError(f"missing 'kind'; allowed: {', '.join(kinds)}", file=file, key=f"{key}.kind")
        if not isinstance(kind, str):
            raise ScenarioError(f"expected a kind name, got {kind!r}; allowed: {', '.join(kinds)}", file=file, key=f"{key}.kind")
        if kind not in kinds:
            other, where = cls.OTHER_KINDS
            hint = f" ('{kind}' belongs under [[{where}]])" if kind in other else did_you_mean(str(kind), kinds)
            raise ScenarioError(f"unknown kind '{kind}'{hint}; allowed: {', '.join(kinds)}", file=file, key=f"{key}.kind")
        params_cls = kinds[kind]
        own = [f.name for f in dataclasses.fields(params_cls)]
        allowed = [*cls.COMMON, *own]
        for name in value:
            if name not in allowed:
                raise ScenarioError(
                    f"unknown key for kind '{kind}'{did_you_mean(name, allowed)}; allowed: {', '.join(allowed)}",
                    file=file,
                    key=f"{key}.{name}",
                )
        params = conv.dataclass(params_cls, {k: v for k, v in value.items() if k in own}, file, key)
        problem = params.check()
        if problem:
            raise ScenarioError(problem, file=file, key=key)
        common = {k: v for k, v in value.items() if k in cls.COMMON and k != "kind"}
        return params, common

    def _raw_common(self) -> dict[str, Any]:
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

    def to_raw(self) -> dict[str, Any]:
        """The TOML-shaped table for this event (what a file would say)."""
        return self._raw_common()


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


def _common_values(cls: Any, common: dict[str, Any], file: str, key: str, conv: Any) -> dict[str, Any]:
    """Convert the common keys with the event dataclass's own type hints and ranges."""
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    out: dict[str, Any] = {}
    for name, value in common.items():
        sub = f"{key}.{name}"
        if name == "scope":
            out[name] = Scope.from_raw(value, file, sub, conv)
        elif name in COST_KEYS:
            continue
        else:
            out[name] = conv.value(hints[name], value, file, sub)
            conv.check(fields[name].metadata, out[name], file, sub)
    costs = {k: v for k, v in common.items() if k in COST_KEYS}
    if "costs" in fields:
        out["costs"] = conv.dataclass(Costs, costs, file, key)
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

    @classmethod
    def from_raw(cls, value: Any, file: str, key: str, conv: Any) -> Shock:
        """Build from a TOML table (kind + common keys + the kind's parameters)."""
        params, common = cls._split(value, file, key, conv)
        if "start" not in common:
            raise ScenarioError("missing required value", file=file, key=f"{key}.start")
        return cls(params=params, **_common_values(cls, common, file, key, conv))


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

    @classmethod
    def from_raw(cls, value: Any, file: str, key: str, conv: Any) -> Strategy:
        """Build from a TOML table (kind + common keys + costs + the kind's parameters)."""
        params, common = cls._split(value, file, key, conv)
        common.pop("spec", None)  # resolved by the loader
        if "start" not in common:
            raise ScenarioError("missing required value", file=file, key=f"{key}.start")
        return cls(params=params, **_common_values(cls, common, file, key, conv))


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

    @classmethod
    def from_raw(cls, value: Any, file: str, key: str, conv: Any) -> Action:
        """Build from a TOML table (kind + days + costs + the kind's parameters)."""
        params, common = cls._split(value, file, key, conv)
        return cls(params=params, **_common_values(cls, common, file, key, conv))


Shock.KINDS, Shock.OTHER_KINDS = SHOCK_KINDS, (STRATEGY_KINDS, "strategies")
Strategy.KINDS, Strategy.OTHER_KINDS = STRATEGY_KINDS, (SHOCK_KINDS, "shocks")
Action.KINDS = {**STRATEGY_KINDS, **PRICING_ACTION_KINDS}
Action.OTHER_KINDS = ({k: v for k, v in SHOCK_KINDS.items() if k not in PRICING_ACTION_KINDS}, "shocks")


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

    @classmethod
    def from_raw(cls, value: Any, file: str, key: str, conv: Any) -> RiskRule:
        """Build from a TOML table with an [action] sub-table."""
        if not isinstance(value, dict):
            raise ScenarioError(f"expected a table, got {type(value).__name__}", file=file, key=key)
        metric = value.get("metric")
        if metric is not None and (not isinstance(metric, str) or metric not in METRICS):
            raise ScenarioError(
                f"unknown metric '{metric}'{did_you_mean(str(metric), METRICS)}; allowed: {', '.join(METRICS)}",
                file=file,
                key=f"{key}.metric",
            )
        rule = conv.dataclass(cls, value, file, key)
        problem = rule.check()
        if problem:
            raise ScenarioError(problem, file=file, key=key)
        return rule

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


# --- validation across sections -----------------------------------------------------------------


def horizon(scenario: Any) -> tuple[date, date]:
    """First and last simulated day (warm-up included)."""
    run = scenario.run
    return run.start_date - timedelta(days=run.warmup_days), run.start_date + timedelta(days=run.days - 1)


def check_events(scenario: Any, file: str) -> None:
    """Cross-checks of shocks, strategies and risk rules against products, formats and the horizon."""
    first, last = horizon(scenario)
    products = [p.id for p in scenario.products]
    formats = [f.name for f in scenario.network.formats]
    for section in ("shocks", "strategies", "risk_rules"):
        items = getattr(scenario, section)
        labels = [e.label if section != "risk_rules" else e.name for e in items]
        for i, label in enumerate(labels):
            if labels.index(label) != i:
                raise ScenarioError(
                    f"two entries are called '{label}'; give each a distinct 'name'", file=file, key=f"{section}[{i}].name"
                )
    for section in ("shocks", "strategies"):
        for i, event in enumerate(getattr(scenario, section)):
            key = f"{section}[{i}]"
            _check_period(event.start, event.end, first, last, file, key)
            _check_scope(event, products, formats, file, key)
            if isinstance(event.params, StoreNetwork):
                for j, store in enumerate(event.params.stores):
                    if store.format not in formats:
                        raise ScenarioError(
                            f"unknown store format '{store.format}'{did_you_mean(store.format, formats)}; allowed: {', '.join(formats)}",
                            file=file,
                            key=f"{key}.stores[{j}].format",
                        )
    for i, rule in enumerate(scenario.risk_rules):
        key = f"risk_rules[{i}]"
        problem = rule.check()
        if problem:
            raise ScenarioError(problem, file=file, key=key)
        start = rule.start or scenario.run.start_date
        _check_period(start, rule.end, first, last, file, key)
        _check_scope(rule.action, products, formats, file, f"{key}.action")
    _check_budgets(scenario, file)
    _check_discounts(scenario, file)
    _check_contradictions(scenario, products, file)


def _check_discounts(scenario: Any, file: str) -> None:
    """A discount event must not push any store's discount past the cap stores apply (no silent clipping)."""
    events = [(f"shocks[{i}]", e.params) for i, e in enumerate(scenario.shocks)]
    events += [(f"strategies[{i}]", e.params) for i, e in enumerate(scenario.strategies)]
    events += [(f"risk_rules[{i}].action", r.action.params) for i, r in enumerate(scenario.risk_rules)]
    formats = scenario.network.formats
    for key, params in events:
        if isinstance(params, DealerDiscount) and params.change > 0:
            name, extra = "change", params.change
        elif isinstance(params, Clearance) and params.discount > 0:
            name, extra = "discount", params.discount
        else:
            continue
        worst = max(formats, key=lambda f: f.base_discount + f.markdown)
        total = worst.base_discount + worst.markdown + extra
        if total > B.MAX_DISCOUNT + 1e-12:
            allowed = B.MAX_DISCOUNT - worst.base_discount - worst.markdown
            raise ScenarioError(
                f"{extra} on top of the base discount of format '{worst.name}' ({worst.base_discount}) and its markdown "
                f"({worst.markdown}) makes a {total:.0%} discount; stores give at most {B.MAX_DISCOUNT:.0%}, "
                f"so allowed: <= {allowed:.4g}",
                file=file,
                key=f"{key}.{name}",
            )


def _check_period(start: date, end: date | None, first: date, last: date, file: str, key: str) -> None:
    if not first <= start <= last:
        raise ScenarioError(
            f"start {start} is outside the horizon {first} .. {last} (run.start_date - warmup_days .. + days - 1)",
            file=file,
            key=f"{key}.start",
        )
    if end is not None:
        if end < start:
            raise ScenarioError(f"end {end} is before start {start}", file=file, key=f"{key}.end")
        if end > last:
            raise ScenarioError(f"end {end} is after the horizon's last day {last}; leave 'end' out to run to the end", file=file, key=f"{key}.end")


def default_scope(event: Any) -> dict[str, Any]:
    """The scope an event acts on: its kind's defaults, then the firm default, then what is given."""
    scope: dict[str, Any] = {"firm": "focal" if isinstance(event, (Strategy, Action)) else "all"}
    scope.update(type(event.params).DEFAULT_SCOPE)
    scope.update(event.scope.given())
    return scope


def _check_scope(event: Any, products: list[str], formats: list[str], file: str, key: str) -> None:
    allowed_keys = type(event.params).scope_keys()
    values = {
        "tier": ("tier1", "tier2", "lower"),
        "format": tuple(formats),
        "product": tuple(products),
        "powertrain": tuple(POWERTRAIN_SETS),
        "brand_type": ("domestic", "jv"),
    }
    for name, given in event.scope.given().items():
        if name == "firm" and not allowed_keys and isinstance(event, (Strategy, Action)):
            continue  # firm-wide strategies without levers (store network, reserves) accept the firm
        if name not in allowed_keys:
            allowed = ", ".join(allowed_keys) or "none (this kind acts market-wide)"
            raise ScenarioError(
                f"scope '{name}' does not apply to kind '{event.kind}'; allowed scope keys: {allowed}",
                file=file,
                key=f"{key}.scope.{name}",
            )
        if name == "firm":
            continue
        for v in given:
            if v not in values[name]:
                raise ScenarioError(
                    f"unknown {name} '{v}'{did_you_mean(v, values[name])}; allowed: {', '.join(values[name])}",
                    file=file,
                    key=f"{key}.scope.{name}",
                )


def _check_budgets(scenario: Any, file: str) -> None:
    budgets: dict[str, tuple[float | None, int]] = {}
    for i, shock in enumerate(scenario.shocks):
        if isinstance(shock.params, TradeInSubsidy):
            programme = shock.params.programme or shock.label
            budget = shock.params.budget
            if programme in budgets and budget is not None and budgets[programme][0] not in (None, budget):
                raise ScenarioError(
                    f"programme '{programme}' has two different budgets ({budgets[programme][0]} and {budget}); give it once",
                    file=file,
                    key=f"shocks[{i}].budget",
                )
            if programme not in budgets or budgets[programme][0] is None:
                budgets[programme] = (budget, i)


def cell_sets(event: Any, products: list[str], scenario: Any) -> dict[str, set[Any]]:
    """Symbolic scope of an event: the firms, store tiers/formats, products and consumer tiers it touches."""
    scope = default_scope(event)
    firm = scope.get("firm", "all")
    ids = list(products)
    kinds = {p.id: p for p in scenario.products}
    if scope.get("product"):
        ids = [p for p in ids if p in scope["product"]]
    if scope.get("powertrain"):
        allowed = {pt for g in scope["powertrain"] for pt in POWERTRAIN_SETS[g]}
        ids = [p for p in ids if kinds[p].powertrain in allowed]
    if scope.get("brand_type"):
        ids = [p for p in ids if kinds[p].brand_type in scope["brand_type"]]
    return {
        "firm": {"focal", "others"} if firm == "all" else {firm},
        "tier": set(scope.get("tier") or ("tier1", "tier2", "lower")),
        "format": set(scope.get("format") or [f.name for f in scenario.network.formats]),
        "product": set(ids),
    }


def _period_days(event: Any, last: date) -> tuple[date, date]:
    return event.start, event.end or last


def _check_contradictions(scenario: Any, products: list[str], file: str) -> None:
    """Two shocks changing the same lever for overlapping cells in overlapping periods contradict each other."""
    _, last = horizon(scenario)
    shocks = list(scenario.shocks)
    for i, a in enumerate(shocks):
        for j in range(i + 1, len(shocks)):
            b = shocks[j]
            shared = set(a.params.levers_set()) & set(b.params.levers_set())
            if not shared:
                continue
            (a0, a1), (b0, b1) = _period_days(a, last), _period_days(b, last)
            if a1 < b0 or b1 < a0:
                continue
            ca, cb = cell_sets(a, products, scenario), cell_sets(b, products, scenario)
            dims = {d for lever in shared for d in (LEVERS[lever].dims if lever in LEVERS else ())}
            keys = {"dealer": ("firm", "tier", "format"), "product": ("product",), "tier": ("tier",)}
            if all(ca[k] & cb[k] for d in dims for k in keys[d]):
                raise ScenarioError(
                    f"shocks '{a.label}' (shocks[{i}]) and '{b.label}' (shocks[{j}]) both change "
                    f"{', '.join(sorted(shared))} for the same scope between {max(a0, b0)} and {min(a1, b1)}; "
                    "merge them into one shock or make their periods not overlap",
                    file=file,
                    key=f"shocks[{j}]",
                )


def all_kinds() -> dict[str, type[Kind]]:
    """Every shock and strategy kind by name."""
    return {**SHOCK_KINDS, **STRATEGY_KINDS}


def policy_levers() -> tuple[str, ...]:
    """Names of the policy levers (kept on `MarketModel.policy`)."""
    return tuple(POLICY_LEVERS)
