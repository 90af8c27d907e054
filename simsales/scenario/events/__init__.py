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
scope=Scope(powertrain=("NEV",)))``.  One job a module:

- `kinds`: the kinds (one frozen dataclass each, with ranges and docs) and their registries;
- `entries`: `Shock`, `Strategy`, `RiskRule` and its `Action`, `Scope`, `Costs`, the metrics;
- `parsing`: TOML tables into those objects, errors naming the file and key path;
- `validation`: checks across sections (horizon, scopes, budgets, discounts, contradictions).

Every public name is importable from this package.  What each kind does to the model's levers
lives in `simsales.events.effects`; this package only describes and validates.
"""

from simsales.scenario.events.entries import (
    COST_KEYS,
    EVENT_SECTIONS,
    METRICS,
    Action,
    Costs,
    RiskRule,
    Scope,
    Shock,
    Strategy,
    default_scope,
)
from simsales.scenario.events.kinds import (
    POWERTRAIN_SETS,
    PRICING_ACTION_KINDS,
    SCOPE_KEYS_BY_DIM,
    SHOCK_KINDS,
    STRATEGY_KINDS,
    AfterSales,
    AICustomerService,
    AIRecommendation,
    AttritionSpike,
    BusinessContinuity,
    CareerTracks,
    Clearance,
    DataPlatformOutage,
    DealerDiscount,
    DeliveryDelay,
    Demand,
    DemandForecasting,
    EcosystemPackages,
    FinancingRate,
    FinancingSubsidy,
    HiringFreeze,
    IncentiveReform,
    InventorySharing,
    Kind,
    LicencePlate,
    ListPrice,
    Membership,
    Mentoring,
    NevAffinity,
    OmnichannelPlatform,
    OnlineOrdering,
    Preference,
    ProductionCut,
    PurchaseTax,
    RetentionBonus,
    RiskReserve,
    SalesAcademy,
    StockPush,
    StoreNetwork,
    StoreOpening,
    TradeInProgramme,
    TradeInSubsidy,
    UserCommunity,
    VRShowroom,
)
from simsales.scenario.events.parsing import PARSERS, Converters
from simsales.scenario.events.validation import cell_sets, check_events, horizon

__all__ = [
    "COST_KEYS",
    "EVENT_SECTIONS",
    "METRICS",
    "PARSERS",
    "POWERTRAIN_SETS",
    "PRICING_ACTION_KINDS",
    "SCOPE_KEYS_BY_DIM",
    "SHOCK_KINDS",
    "STRATEGY_KINDS",
    "AICustomerService",
    "AIRecommendation",
    "Action",
    "AfterSales",
    "AttritionSpike",
    "BusinessContinuity",
    "CareerTracks",
    "Clearance",
    "Converters",
    "Costs",
    "DataPlatformOutage",
    "DealerDiscount",
    "DeliveryDelay",
    "Demand",
    "DemandForecasting",
    "EcosystemPackages",
    "FinancingRate",
    "FinancingSubsidy",
    "HiringFreeze",
    "IncentiveReform",
    "InventorySharing",
    "Kind",
    "LicencePlate",
    "ListPrice",
    "Membership",
    "Mentoring",
    "NevAffinity",
    "OmnichannelPlatform",
    "OnlineOrdering",
    "Preference",
    "ProductionCut",
    "PurchaseTax",
    "RetentionBonus",
    "RiskReserve",
    "RiskRule",
    "SalesAcademy",
    "Scope",
    "Shock",
    "StockPush",
    "StoreNetwork",
    "StoreOpening",
    "Strategy",
    "TradeInProgramme",
    "TradeInSubsidy",
    "UserCommunity",
    "VRShowroom",
    "cell_sets",
    "check_events",
    "default_scope",
    "horizon",
]
