"""Checks of a scenario's events against each other and the rest of the scenario.

Run by the loader after every section is read (and by `simsales.events.EventPlan` for scenarios
built in Python): names unique per section, periods inside the horizon, scope keys that apply
to the kind and name known products, formats and tiers, one budget per subsidy programme,
discounts within what stores can give, and no two shocks setting the same lever for the same
cells at the same time.  Each refusal is a `ScenarioError` naming the file and the key path.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from simsales.levers import LEVERS
from simsales.scenario import bounds as B
from simsales.scenario.errors import ScenarioError, did_you_mean
from simsales.scenario.events.entries import EVENT_SECTIONS, Action, Strategy, default_scope
from simsales.scenario.events.kinds import POWERTRAIN_SETS, Clearance, DealerDiscount, StoreNetwork, TradeInSubsidy


def horizon(scenario: Any) -> tuple[date, date]:
    """First and last simulated day (warm-up included)."""
    run = scenario.run
    return run.start_date - timedelta(days=run.warmup_days), run.start_date + timedelta(days=run.days - 1)


def check_events(scenario: Any, file: str) -> None:
    """Cross-checks of shocks, strategies and risk rules against products, formats and the horizon."""
    first, last = horizon(scenario)
    products = [p.id for p in scenario.products]
    formats = [f.name for f in scenario.network.formats]
    for section in EVENT_SECTIONS:
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
