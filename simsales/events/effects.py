"""What each shock and strategy kind does: a list of lever changes over the cells of its scope.

An `Effect` multiplies (``mul``), shifts (``add``) or sets (``set``) one lever on a mask of its
cells (stores x products, consumer tiers x products, ...).  A kind whose parameter is a target
("answer leads in 5 minutes") is turned into per-store factors against the store's own base value
here, once, when the model is built; the daily work is then only arithmetic on small arrays.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from simsales.agents.dealers import MEAN_ABS_NORMAL
from simsales.levers import LEVERS, POLICY_LEVERS, lever_shape
from simsales.scenario import events as ev
from simsales.scenario.schema import POWERTRAINS, TIERS

if TYPE_CHECKING:
    from simsales.model import MarketModel


@dataclass
class Effect:
    """One change of one lever: `op` in mul/add/set, `value` and `mask` shaped like the lever."""

    lever: str  # a `Levers` attribute, or "policy.<field>" for `MarketModel.policy`
    op: str
    value: np.ndarray
    mask: np.ndarray

    def apply(self, current: np.ndarray, weight: float) -> np.ndarray:
        """The lever after this effect at roll-out weight `weight` in (0, 1].

        mul: the factor ramps from 1; add: the shift ramps from 0; set: the value moves from the
        current value towards the target.
        """
        out = np.array(current, dtype=float, copy=True).reshape(np.shape(current) or (1,))
        value = self.value.reshape(out.shape)
        m = self.mask.reshape(out.shape)
        if self.op == "mul":
            out[m] = out[m] * (1.0 + (value[m] - 1.0) * weight)
        elif self.op == "add":
            out[m] = out[m] + value[m] * weight
        else:
            out[m] = out[m] + (value[m] - out[m]) * weight
        return out.reshape(np.shape(current))


# --- scope -> masks ------------------------------------------------------------------------------


def dealer_mask(scope: dict[str, Any], model: MarketModel) -> np.ndarray:
    """Stores selected by firm, store tier and store format."""
    net = model.network
    mask = np.ones(net.n, dtype=bool)
    firm = scope.get("firm", "all")
    if firm == "focal":
        mask &= net.focal
    elif firm == "others":
        mask &= ~net.focal
    if scope.get("tier"):
        mask &= np.isin(net.tier, [TIERS.index(t) for t in scope["tier"]])
    if scope.get("format"):
        names = [f.name for f in net.formats]
        mask &= np.isin(net.fmt, [names.index(f) for f in scope["format"]])
    return mask


def product_mask(scope: dict[str, Any], model: MarketModel) -> np.ndarray:
    """Products selected by id, powertrain (NEV = BEV + PHEV) and brand type."""
    cat = model.catalogue
    mask = np.ones(len(cat), dtype=bool)
    if scope.get("product"):
        mask &= np.isin(np.array(cat.ids), list(scope["product"]))
    if scope.get("powertrain"):
        allowed = [POWERTRAINS.index(p) for g in scope["powertrain"] for p in ev.POWERTRAIN_SETS[g]]
        mask &= np.isin(cat.powertrain, allowed)
    if scope.get("brand_type"):
        domestic = cat.is_domestic
        want = set(scope["brand_type"])
        mask &= np.where(domestic, "domestic" in want, "jv" in want)
    return mask


def tier_mask(scope: dict[str, Any]) -> np.ndarray:
    """Consumer city tiers selected."""
    tiers = scope.get("tier")
    return np.isin(np.arange(len(TIERS)), [TIERS.index(t) for t in tiers]) if tiers else np.ones(len(TIERS), dtype=bool)


def effect(model: MarketModel, scope: dict[str, Any], lever: str, op: str, value: Any) -> Effect:
    """An effect of `op` by `value` (scalar or broadcastable to the lever's shape) on the scope's cells."""
    if lever.startswith("policy."):
        return Effect(lever, op, np.asarray(float(value)), np.asarray(True))
    spec = LEVERS[lever]
    shape = lever_shape(spec, model.network.n, len(model.catalogue))
    masks = {"dealer": lambda: dealer_mask(scope, model), "product": lambda: product_mask(scope, model), "tier": lambda: tier_mask(scope)}
    mask = np.ones(shape, dtype=bool)
    for axis, dim in enumerate(spec.dims):
        m = masks[dim]()
        mask &= m.reshape([-1 if a == axis else 1 for a in range(len(shape))])
    values = np.broadcast_to(np.asarray(value, dtype=float), shape).copy() if shape else np.asarray(float(value))
    return Effect(lever, op, values, mask)


def _ratio(target: float, base: np.ndarray) -> np.ndarray:
    return np.divide(target, base, out=np.ones_like(base, dtype=float), where=base > 0)


# --- kinds -----------------------------------------------------------------------------------------

Compiler = Callable[[Any, dict[str, Any], "MarketModel"], list[Effect]]
COMPILERS: dict[str, Compiler] = {}


def compiles(kind: type[ev.Kind]) -> Callable[[Compiler], Compiler]:
    """Register the effects of a kind."""

    def wrap(fn: Compiler) -> Compiler:
        COMPILERS[kind.KIND] = fn
        return fn

    return wrap


def compile_kind(params: ev.Kind, scope: dict[str, Any], model: MarketModel) -> list[Effect]:
    """The effects of one event's kind on the model's cells."""
    return COMPILERS[params.KIND](params, scope, model)


@compiles(ev.PurchaseTax)
def _purchase_tax(p: ev.PurchaseTax, scope: dict[str, Any], m: MarketModel) -> list[Effect]:
    pairs = (("nev_tax_exemption", p.exemption), ("nev_tax_cap", p.cap), ("purchase_tax_rate", p.rate))
    return [effect(m, scope, f"policy.{lever}", "set", v) for lever, v in pairs if v is not None]


@compiles(ev.TradeInSubsidy)
def _trade_in(p: ev.TradeInSubsidy, scope: dict[str, Any], m: MarketModel) -> list[Effect]:
    return [
        effect(m, scope, "policy.trade_in_subsidy_nev", "set", p.nev),
        effect(m, scope, "policy.trade_in_subsidy_ice", "set", p.ice),
        effect(m, scope, "trade_in_eligible_share", "set", p.eligible_share),
    ]


@compiles(ev.LicencePlate)
def _plates(p: ev.LicencePlate, scope: dict[str, Any], m: MarketModel) -> list[Effect]:
    return [effect(m, scope, "utility_shift", "add", p.nev_utility)]  # NEVs by the kind's DEFAULT_SCOPE


@compiles(ev.ListPrice)
def _list_price(p: ev.ListPrice, scope: dict[str, Any], m: MarketModel) -> list[Effect]:
    return [effect(m, scope, "price_factor", "mul", 1.0 + p.change)]


@compiles(ev.DealerDiscount)
def _discount(p: ev.DealerDiscount, scope: dict[str, Any], m: MarketModel) -> list[Effect]:
    return [effect(m, scope, "discount_add", "add", p.change)]


@compiles(ev.FinancingRate)
def _financing(p: ev.FinancingRate, scope: dict[str, Any], m: MarketModel) -> list[Effect]:
    return [effect(m, scope, "financing_rate_add", "add", p.change)]


@compiles(ev.Demand)
def _demand(p: ev.Demand, scope: dict[str, Any], m: MarketModel) -> list[Effect]:
    return [effect(m, scope, "demand_multiplier", "mul", 1.0 + p.change)]


@compiles(ev.NevAffinity)
def _nev_affinity(p: ev.NevAffinity, scope: dict[str, Any], m: MarketModel) -> list[Effect]:
    return [effect(m, scope, "utility_shift", "add", p.utility)]  # NEVs by the kind's DEFAULT_SCOPE


@compiles(ev.Preference)
def _preference(p: ev.Preference, scope: dict[str, Any], m: MarketModel) -> list[Effect]:
    return [effect(m, scope, "utility_shift", "add", p.utility)]


@compiles(ev.DeliveryDelay)
def _delay(p: ev.DeliveryDelay, scope: dict[str, Any], m: MarketModel) -> list[Effect]:
    return [
        effect(m, scope, "delivery_delay_factor", "mul", p.factor),
        effect(m, scope, "delay_cancel_factor", "mul", p.cancel_factor),
    ]


@compiles(ev.ProductionCut)
def _production(p: ev.ProductionCut, scope: dict[str, Any], m: MarketModel) -> list[Effect]:
    return [
        effect(m, scope, "supply_factor", "mul", 1.0 - p.cut),
        effect(m, scope, "delivery_delay_factor", "mul", 1.0 / (1.0 - p.cut)),
    ]


@compiles(ev.StockPush)
def _push(p: ev.StockPush, scope: dict[str, Any], m: MarketModel) -> list[Effect]:
    return [effect(m, scope, "push_factor", "mul", p.push)]


@compiles(ev.AttritionSpike)
def _attrition(p: ev.AttritionSpike, scope: dict[str, Any], m: MarketModel) -> list[Effect]:
    return [effect(m, scope, "attrition_factor", "mul", p.factor)]


@compiles(ev.HiringFreeze)
def _freeze(p: ev.HiringFreeze, scope: dict[str, Any], m: MarketModel) -> list[Effect]:
    return [effect(m, scope, "hire_factor", "mul", p.hiring)]


@compiles(ev.DataPlatformOutage)
def _outage(p: ev.DataPlatformOutage, scope: dict[str, Any], m: MarketModel) -> list[Effect]:
    net = m.network
    return [
        effect(m, scope, "response_factor", "set", _ratio(p.response_minutes, net.response_minutes)),
        effect(m, scope, "handover_factor", "set", np.where(net.info_handover > 0, p.handover / np.maximum(net.info_handover, 1e-12), 0.0)),
        effect(m, scope, "ai_handled_share", "set", 0.0),
    ]


@compiles(ev.OmnichannelPlatform)
def _omnichannel(p: ev.OmnichannelPlatform, scope: dict[str, Any], m: MarketModel) -> list[Effect]:
    net = m.network
    return [
        effect(m, scope, "handover_factor", "mul", np.maximum(_ratio(p.info_sharing, net.info_handover), 1.0)),
        effect(m, scope, "response_factor", "mul", np.minimum(_ratio(p.response_minutes, net.response_minutes), 1.0)),
    ]


@compiles(ev.AICustomerService)
def _ai_cs(p: ev.AICustomerService, scope: dict[str, Any], m: MarketModel) -> list[Effect]:
    return [
        effect(m, scope, "ai_handled_share", "add", p.handled_share),
        effect(m, scope, "ai_response_minutes", "set", p.response_minutes),
    ]


@compiles(ev.AIRecommendation)
def _ai_rec(p: ev.AIRecommendation, scope: dict[str, Any], m: MarketModel) -> list[Effect]:
    out = [effect(m, scope, "outside_utility_shift", "add", -p.match_gain)]
    if p.knowledge_boost:
        out.append(effect(m, scope, "knowledge_boost", "add", p.knowledge_boost))
    return out


@compiles(ev.VRShowroom)
def _vr(p: ev.VRShowroom, scope: dict[str, Any], m: MarketModel) -> list[Effect]:
    return [
        effect(m, scope, "online_lead_factor", "mul", p.lead_factor),
        effect(m, scope, "virtual_test_drive", "add", p.virtual_test_drive),
    ]


@compiles(ev.OnlineOrdering)
def _online_ordering(p: ev.OnlineOrdering, scope: dict[str, Any], m: MarketModel) -> list[Effect]:
    return [effect(m, scope, "online_order_share", "add", p.share)]


@compiles(ev.SalesAcademy)
def _academy(p: ev.SalesAcademy, scope: dict[str, Any], m: MarketModel) -> list[Effect]:
    return [effect(m, scope, "training_per_month", "add", p.knowledge_per_month)]


@compiles(ev.Mentoring)
def _mentoring(p: ev.Mentoring, scope: dict[str, Any], m: MarketModel) -> list[Effect]:
    out = [effect(m, scope, "onboarding_factor", "mul", p.onboarding_months / m.spec.salesforce.onboarding_months)]
    if p.knowledge_per_month:
        out.append(effect(m, scope, "onboarding_learning", "add", p.knowledge_per_month))
    return out


@compiles(ev.IncentiveReform)
def _incentives(p: ev.IncentiveReform, scope: dict[str, Any], m: MarketModel) -> list[Effect]:
    base = m.spec.salesforce.volume_weight
    out = [effect(m, scope, "volume_weight_factor", "mul", p.volume_weight / base if base > 0 else 1.0)]
    if p.referral_factor != 1.0:
        out.append(effect(m, scope, "referral_factor", "mul", p.referral_factor))
    if p.loyalty:
        out.append(effect(m, scope, "loyalty_shift", "add", p.loyalty))
    return out


@compiles(ev.CareerTracks)
def _career(p: ev.CareerTracks, scope: dict[str, Any], m: MarketModel) -> list[Effect]:
    return [effect(m, scope, "attrition_factor", "mul", p.attrition_factor)]


@compiles(ev.RetentionBonus)
def _retention(p: ev.RetentionBonus, scope: dict[str, Any], m: MarketModel) -> list[Effect]:
    return [effect(m, scope, "attrition_factor", "mul", p.attrition_factor)]


@compiles(ev.StoreNetwork)
def _stores(p: ev.StoreNetwork, scope: dict[str, Any], m: MarketModel) -> list[Effect]:
    return []  # stores are added at build time and opened by the timeline (see EventPlan.extra_stores)


@compiles(ev.InventorySharing)
def _sharing(p: ev.InventorySharing, scope: dict[str, Any], m: MarketModel) -> list[Effect]:
    return [effect(m, scope, "stock_pool", "set", 1.0), effect(m, scope, "cover_factor", "mul", p.cover_factor)]


@compiles(ev.DemandForecasting)
def _forecasting(p: ev.DemandForecasting, scope: dict[str, Any], m: MarketModel) -> list[Effect]:
    out = [effect(m, scope, "cover_factor", "mul", p.cover_factor)]
    if p.accuracy is not None:  # error sd x (1 - target) / (1 - the store's own accuracy), never worse
        base = m.network.forecast_error_sd * MEAN_ABS_NORMAL
        target = 1.0 - p.accuracy
        out.append(effect(m, scope, "forecast_error_factor", "mul", np.minimum(_ratio(target, base), 1.0)))
    return out


@compiles(ev.Clearance)
def _clearance(p: ev.Clearance, scope: dict[str, Any], m: MarketModel) -> list[Effect]:
    return [
        effect(m, scope, "clearance_discount", "add", p.discount),
        effect(m, scope, "clearance_age_days", "set", float(p.age_days)),
        effect(m, scope, "clearance_financing", "add", p.financing_subsidy),
    ]


@compiles(ev.FinancingSubsidy)
def _financing_subsidy(p: ev.FinancingSubsidy, scope: dict[str, Any], m: MarketModel) -> list[Effect]:
    return [effect(m, scope, "financing_subsidy", "add", p.share)]


@compiles(ev.TradeInProgramme)
def _trade_in_programme(p: ev.TradeInProgramme, scope: dict[str, Any], m: MarketModel) -> list[Effect]:
    return [effect(m, scope, "trade_in_premium", "add", p.premium)]


@compiles(ev.AfterSales)
def _after_sales(p: ev.AfterSales, scope: dict[str, Any], m: MarketModel) -> list[Effect]:
    base = m.spec.ownership.repair_wait_days
    return [effect(m, scope, "repair_wait_factor", "mul", p.repair_wait_days / base if base > 0 else 1.0)]


@compiles(ev.UserCommunity)
def _community(p: ev.UserCommunity, scope: dict[str, Any], m: MarketModel) -> list[Effect]:
    return [effect(m, scope, "referral_factor", "mul", p.referral_factor)]


@compiles(ev.Membership)
def _membership(p: ev.Membership, scope: dict[str, Any], m: MarketModel) -> list[Effect]:
    return [effect(m, scope, "loyalty_shift", "add", p.loyalty), effect(m, scope, "churn_factor", "mul", p.churn_factor)]


@compiles(ev.EcosystemPackages)
def _ecosystem(p: ev.EcosystemPackages, scope: dict[str, Any], m: MarketModel) -> list[Effect]:
    return [effect(m, scope, "store_utility_shift", "add", p.utility)]


@compiles(ev.RiskReserve)
def _reserve(p: ev.RiskReserve, scope: dict[str, Any], m: MarketModel) -> list[Effect]:
    return []  # a provision: only its costs


@compiles(ev.BusinessContinuity)
def _continuity(p: ev.BusinessContinuity, scope: dict[str, Any], m: MarketModel) -> list[Effect]:
    return []  # shortens outages at the stores it covers (see Timeline._compile_outage)


def neutral_value(lever: str, model: MarketModel) -> np.ndarray:
    """The value a lever has when no event touches it (policy levers: the scenario's)."""
    if lever.startswith("policy."):
        return np.asarray(float(getattr(model.spec.policy, lever.split(".", 1)[1])))
    return model.levers.neutral(lever)


def lever_names() -> tuple[str, ...]:
    """Every lever an effect may name."""
    return (*LEVERS, *(f"policy.{p}" for p in POLICY_LEVERS))


__all__ = ["COMPILERS", "Effect", "compile_kind", "effect", "neutral_value"]
