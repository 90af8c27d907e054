"""Scenarios: typed objects and the TOML files that describe them."""

from simsales.scenario.errors import ScenarioError
from simsales.scenario.events import Action, Costs, RiskRule, Scope, Shock, Strategy
from simsales.scenario.loader import apply_overrides, load_scenario
from simsales.scenario.schema import (
    InventoryParams,
    JourneyParams,
    NetworkSpec,
    OwnershipParams,
    PolicySpec,
    PopulationSpec,
    Product,
    RunSpec,
    SalesforceSpec,
    Scenario,
    StoreFormat,
)

__all__ = [
    "Action",
    "Costs",
    "InventoryParams",
    "JourneyParams",
    "NetworkSpec",
    "OwnershipParams",
    "PolicySpec",
    "PopulationSpec",
    "Product",
    "RiskRule",
    "RunSpec",
    "SalesforceSpec",
    "Scenario",
    "ScenarioError",
    "Scope",
    "Shock",
    "StoreFormat",
    "Strategy",
    "apply_overrides",
    "load_scenario",
]
