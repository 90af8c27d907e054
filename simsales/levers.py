"""Named levers of the model: the one place shocks, strategies and risk rules act on.

Every lever is neutral by default (a factor of 1, a shift of 0), so a model whose timeline is
empty behaves exactly like the baseline.  Each lever is read in ONE place of the model, named in
its `LeverSpec.read_in`; changing a lever changes behaviour from that day on, through that
mechanism, never by editing an output.  `simsales.timeline` recomputes the levers that events
touch at the start of every day.

Dimensions: ``tier`` = the consumer's city tier (3), ``dealer`` = store (n_dealers),
``product`` = catalogue row (n_products); no dimension = one market-wide number.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Consumer city tiers (as `simsales.scenario.schema.TIERS`; not imported, to keep this module import-light).
N_TIERS = 3
#: Stock age at which clearance applies when no rule has set one: never (older than the oldest bucket).
NEVER_DAYS = 366.0


@dataclass(frozen=True)
class LeverSpec:
    """What a lever is: its dimensions, neutral value, meaning and the one place that reads it."""

    name: str
    dims: tuple[str, ...]
    neutral: float
    doc: str
    read_in: str


LEVERS: dict[str, LeverSpec] = {
    s.name: s
    for s in (
        # --- consumers and the market -----------------------------------------------------
        LeverSpec("demand_multiplier", ("tier",), 1.0, "market-entry hazard (consumer confidence)", "journey.enter_market"),
        LeverSpec("utility_shift", ("tier", "product"), 0.0, "taste for products (NEV affinity, licence plates)", "journey._utility"),
        LeverSpec("trade_in_eligible_share", (), 1.0, "owners whose old car qualifies for the trade-in subsidy", "journey.subsidy_eligible"),
        # --- prices and stock ---------------------------------------------------------------
        LeverSpec("price_factor", ("dealer", "product"), 1.0, "manufacturer list price at the store", "MarketModel._price_today"),
        LeverSpec("discount_add", ("dealer", "product"), 0.0, "dealer discount on list price, added", "Network.update_prices"),
        LeverSpec("clearance_discount", ("dealer",), 0.0, "extra discount on products with stock older than clearance_age_days", "Network.update_prices"),
        LeverSpec("clearance_age_days", ("dealer",), NEVER_DAYS, "stock age that triggers the clearance discount", "Network.update_prices"),
        LeverSpec("clearance_financing", ("dealer",), 0.0, "financing subsidy (share of the price) on products with stock older than clearance_age_days", "Network.update_prices"),
        LeverSpec("financing_rate_add", ("dealer",), 0.0, "annual stock-financing rate, added", "MarketModel._end_of_day"),
        LeverSpec("supply_factor", ("product",), 1.0, "share of store replenishment orders the factory fills", "Network.order"),
        LeverSpec("push_factor", ("dealer",), 1.0, "manufacturer push on franchised stores' stock target", "Network.target_stock"),
        LeverSpec("cover_factor", ("dealer",), 1.0, "months of sales a store aims to hold", "Network.target_stock"),
        LeverSpec("forecast_error_factor", ("dealer",), 1.0, "size of the store's demand-forecast error (1 - accuracy)", "Network.order"),
        LeverSpec("stock_pool", ("dealer",), 0.0, "1: the store shares stock with the other pooled stores (weekly transfers)", "Network.rebalance"),
        LeverSpec("delivery_delay_factor", ("product",), 1.0, "factory lead time of orders not in stock", "journey.place_orders"),
        LeverSpec("delay_cancel_factor", ("product",), 1.0, "cancellation of orders not in stock", "journey.place_orders"),
        # --- the store's offer ----------------------------------------------------------------
        LeverSpec("store_utility_shift", ("dealer", "product"), 0.0, "value the store adds to a product (ecosystem packages)", "journey.product_utility"),
        LeverSpec("outside_utility_shift", ("dealer",), 0.0, "utility of leaving the store without an order (product match)", "journey._decide"),
        LeverSpec("trade_in_premium", ("dealer",), 0.0, "yuan added to the old car's value for owners trading in", "journey.product_utility"),
        LeverSpec("financing_subsidy", ("dealer", "product"), 0.0, "share of the price the store pays towards the buyer's car loan (a lower effective price; paid per order)", "Network.update_prices"),
        # --- online channel ------------------------------------------------------------------
        LeverSpec("online_lead_factor", ("dealer",), 1.0, "lead capture per online showroom session (fewer sessions, more leads)", "journey.finish_research"),
        LeverSpec("online_order_share", ("dealer",), 0.0, "answered online leads who decide online without a visit", "journey.decide_online"),
        LeverSpec("virtual_test_drive", ("dealer",), 0.0, "share of the no-test-drive penalty a VR test drive removes online", "journey.decide_online"),
        LeverSpec("response_factor", ("dealer",), 1.0, "minutes until the store answers an online lead", "journey.contact_leads"),
        LeverSpec("ai_handled_share", ("dealer",), 0.0, "online leads answered by an AI agent", "journey.contact_leads"),
        LeverSpec("ai_response_minutes", ("dealer",), 3.0, "minutes until the AI agent answers", "journey.contact_leads"),
        LeverSpec("handover_factor", ("dealer",), 1.0, "online inquiry information that reaches the store", "journey.contact_leads"),
        # --- salespeople ----------------------------------------------------------------------
        LeverSpec("knowledge_boost", ("dealer",), 0.0, "NEV knowledge added in conversations (AI assistant)", "journey._salesperson_values"),
        LeverSpec("volume_weight_factor", ("dealer",), 1.0, "weight of volume KPIs in appraisal", "journey._salesperson_values"),
        LeverSpec("training_per_month", ("dealer",), 0.0, "NEV knowledge gained per month from training", "Salesforce.month_end"),
        LeverSpec("onboarding_factor", ("dealer",), 1.0, "months until a new hire is fully productive", "Salesforce.ramp"),
        LeverSpec("onboarding_learning", ("dealer",), 0.0, "NEV knowledge a salesperson in onboarding gains per month from a mentor", "Salesforce.month_end"),
        LeverSpec("attrition_factor", ("dealer",), 1.0, "monthly probability a salesperson leaves", "Salesforce.month_end"),
        LeverSpec("hire_factor", ("dealer",), 1.0, "monthly probability a vacancy is filled", "Salesforce.month_end"),
        # --- owners -------------------------------------------------------------------------
        LeverSpec("repair_wait_factor", ("dealer",), 1.0, "after-sales repair wait at the selling store", "journey.deliver"),
        LeverSpec("referral_factor", ("dealer",), 1.0, "owners' propensity to refer a new buyer", "journey.first_service"),
        LeverSpec("churn_factor", ("dealer",), 1.0, "owners lost as customers at first service", "journey.first_service"),
        LeverSpec("loyalty_shift", ("dealer",), 0.0, "utility of returning to a store of the group that sold the last car", "journey.choose_dealer"),
    )
}  # fmt: skip

#: Policy levers live on `MarketModel.policy` (market/policy.py); their neutral value is the scenario's.
POLICY_LEVERS: dict[str, str] = {
    "purchase_tax_rate": "purchase tax on the pre-VAT price",
    "nev_tax_exemption": "share of NEV purchase tax exempted",
    "nev_tax_cap": "maximum NEV exemption per car, yuan",
    "trade_in_subsidy_nev": "subsidy for trading in an old car for an NEV, yuan",
    "trade_in_subsidy_ice": "subsidy for trading in an old car for an ICE car, yuan",
}


def lever_shape(spec: LeverSpec, n_dealers: int, n_products: int) -> tuple[int, ...]:
    """Array shape of a lever in a model with these sizes."""
    sizes = {"tier": N_TIERS, "dealer": n_dealers, "product": n_products}
    return tuple(sizes[d] for d in spec.dims)


class Levers:
    """Current lever values: attributes named as in `LEVERS`, arrays over their dimensions."""

    def __init__(self, n_dealers: int, n_products: int = 1) -> None:
        self.n_dealers = n_dealers
        self.n_products = n_products
        for spec in LEVERS.values():
            self.reset(spec.name)

    def reset(self, name: str) -> None:
        """Put one lever back to its neutral value."""
        spec = LEVERS[name]
        shape = lever_shape(spec, self.n_dealers, self.n_products)
        setattr(self, name, np.full(shape, spec.neutral) if shape else spec.neutral)

    def neutral(self, name: str) -> np.ndarray:
        """A fresh neutral array (or 0-d array) for a lever."""
        spec = LEVERS[name]
        return np.full(lever_shape(spec, self.n_dealers, self.n_products), spec.neutral)

    def is_neutral(self, name: str) -> bool:
        """True when the lever has its neutral value everywhere."""
        return bool(np.all(np.asarray(getattr(self, name)) == LEVERS[name].neutral))

    def per_tier(self, name: str) -> np.ndarray:
        """A tier-dimensioned lever as an array even if a caller assigned a single number."""
        return np.broadcast_to(np.asarray(getattr(self, name), dtype=float), (N_TIERS,))
