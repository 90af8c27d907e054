"""Event kinds: what a shock, strategy or risk-rule action changes, as typed, frozen parameters.

Each kind is a frozen dataclass deriving from `Kind`: its fields are the parameters a file gives
next to ``kind = "..."`` (with defaults, ranges and a one-line doc in the field metadata, which
the loader checks and `simsales show` prints), its class attributes say which family it belongs
to, which model levers it moves (`simsales.levers`) and its default scope.  The registries
`SHOCK_KINDS`, `STRATEGY_KINDS` and `PRICING_ACTION_KINDS` say under which section a kind may
stand.  What each kind does to the levers lives in `simsales.events.effects`; reading the kinds
from TOML is `simsales.scenario.events.parsing`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from simsales.levers import LEVERS
from simsales.scenario import bounds as B

#: Powertrain groups a scope may name, and the powertrains each stands for.
POWERTRAIN_SETS: dict[str, tuple[str, ...]] = {"BEV": ("BEV",), "PHEV": ("PHEV",), "ICE": ("ICE",), "NEV": ("BEV", "PHEV")}
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


#: The kinds a [[shocks]] entry may take, by name.
SHOCK_KINDS: dict[str, type[Kind]] = {
    k.KIND: k
    for k in (
        PurchaseTax, TradeInSubsidy, LicencePlate, ListPrice, DealerDiscount, FinancingRate, Demand, NevAffinity,
        Preference, DeliveryDelay, ProductionCut, StockPush, AttritionSpike, HiringFreeze, DataPlatformOutage,
    )
}  # fmt: skip
#: The kinds a [[strategies]] entry (or a risk rule's action) may take, by name.
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
