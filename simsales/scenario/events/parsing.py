"""TOML tables into event objects: each entry of [[shocks]], [[strategies]] and [[risk_rules]].

A table holds a ``kind``, the keys every entry of its section takes (``COMMON`` of the entry
class: name, period, scope, costs) and the kind's own parameters side by side; here they are told
apart, the kind is looked up in the section's registry and every part is converted with the
scenario loader's rules (`simsales.scenario.build`, passed in as a `Converters`, so this module
does not import the loader).  Every error names the file and the key path, e.g.
``shocks[2].change``, and says what is allowed.  The loader finds the function for a class in
`PARSERS`.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from simsales.scenario.errors import ScenarioError, did_you_mean
from simsales.scenario.events.entries import COST_KEYS, METRICS, Action, Costs, RiskRule, Scope, Shock, Strategy
from simsales.scenario.events.kinds import PRICING_ACTION_KINDS, SHOCK_KINDS, STRATEGY_KINDS, Kind


class Converters(Protocol):
    """The loader's conversions (typed value, dataclass, range check), each naming file and key on error."""

    def value(self, tp: Any, value: Any, file: str, key: str) -> Any:
        """`value` converted to type `tp`."""
        ...

    def dataclass(self, cls: Any, value: Any, file: str, key: str) -> Any:
        """An instance of dataclass `cls` built from the table `value`, fields converted and range-checked."""
        ...

    def check(self, meta: Mapping[str, Any], value: Any, file: str, key: str) -> None:
        """Refuse `value` when it is outside the range in a field's metadata."""
        ...


#: Per entry class: the kinds its section allows, and the other section's kinds with that
#: section's name (to say "'list_price' belongs under [[shocks]]" instead of "unknown kind").
SECTION_KINDS: dict[type, tuple[Mapping[str, type[Kind]], Mapping[str, type[Kind]], str]] = {
    Shock: (SHOCK_KINDS, STRATEGY_KINDS, "strategies"),
    Strategy: (STRATEGY_KINDS, SHOCK_KINDS, "shocks"),
    Action: (
        {**STRATEGY_KINDS, **PRICING_ACTION_KINDS},
        {k: v for k, v in SHOCK_KINDS.items() if k not in PRICING_ACTION_KINDS},
        "shocks",
    ),
}


def parse_scope(value: Any, file: str, key: str, conv: Converters) -> Scope:
    """A `Scope` from a TOML table; a single string is accepted where a list is expected."""
    if not isinstance(value, dict):
        raise ScenarioError(f"expected a table like {{ firm = \"focal\" }}, got {value!r}", file=file, key=key)
    raw = {k: ([v] if isinstance(v, str) and k != "firm" else v) for k, v in value.items()}
    return conv.dataclass(Scope, raw, file, key)


def parse_shock(value: Any, file: str, key: str, conv: Converters) -> Shock:
    """A `Shock` from a TOML table (kind + common keys + the kind's parameters)."""
    params, common = _split(Shock, value, file, key, conv)
    if "start" not in common:
        raise ScenarioError("missing required value", file=file, key=f"{key}.start")
    return Shock(params=params, **_common_values(Shock, common, file, key, conv))


def parse_strategy(value: Any, file: str, key: str, conv: Converters) -> Strategy:
    """A `Strategy` from a TOML table (kind + common keys + costs + the kind's parameters)."""
    params, common = _split(Strategy, value, file, key, conv)
    common.pop("spec", None)  # resolved by the loader
    if "start" not in common:
        raise ScenarioError("missing required value", file=file, key=f"{key}.start")
    return Strategy(params=params, **_common_values(Strategy, common, file, key, conv))


def parse_action(value: Any, file: str, key: str, conv: Converters) -> Action:
    """A risk rule's `Action` from a TOML table (kind + days + costs + the kind's parameters)."""
    params, common = _split(Action, value, file, key, conv)
    return Action(params=params, **_common_values(Action, common, file, key, conv))


def parse_rule(value: Any, file: str, key: str, conv: Converters) -> RiskRule:
    """A `RiskRule` from a TOML table with an [action] sub-table."""
    if not isinstance(value, dict):
        raise ScenarioError(f"expected a table, got {type(value).__name__}", file=file, key=key)
    metric = value.get("metric")
    if metric is not None and (not isinstance(metric, str) or metric not in METRICS):
        raise ScenarioError(
            f"unknown metric '{metric}'{did_you_mean(str(metric), METRICS)}; allowed: {', '.join(METRICS)}",
            file=file,
            key=f"{key}.metric",
        )
    rule = conv.dataclass(RiskRule, value, file, key)
    problem = rule.check()
    if problem:
        raise ScenarioError(problem, file=file, key=key)
    return rule


#: The parser of each event class, for the loader (`simsales.scenario.build`).
PARSERS: dict[type, Callable[[Any, str, str, Converters], Any]] = {
    Scope: parse_scope,
    Shock: parse_shock,
    Strategy: parse_strategy,
    Action: parse_action,
    RiskRule: parse_rule,
}


def _split(cls: type, value: Any, file: str, key: str, conv: Converters) -> tuple[Kind, dict[str, Any]]:
    """The kind's parameters (converted and checked) and the entry's common keys, still raw."""
    if not isinstance(value, dict):
        raise ScenarioError(f"expected a table, got {type(value).__name__}", file=file, key=key)
    kinds, other, where = SECTION_KINDS[cls]
    kind = value.get("kind")
    if kind is None:
        raise ScenarioError(f"missing 'kind'; allowed: {', '.join(kinds)}", file=file, key=f"{key}.kind")
    if not isinstance(kind, str):
        raise ScenarioError(f"expected a kind name, got {kind!r}; allowed: {', '.join(kinds)}", file=file, key=f"{key}.kind")
    if kind not in kinds:
        hint = f" ('{kind}' belongs under [[{where}]])" if kind in other else did_you_mean(str(kind), kinds)
        raise ScenarioError(f"unknown kind '{kind}'{hint}; allowed: {', '.join(kinds)}", file=file, key=f"{key}.kind")
    params_cls = kinds[kind]
    own = [f.name for f in dataclasses.fields(params_cls)]
    common_keys: tuple[str, ...] = cls.COMMON  # type: ignore[attr-defined]
    allowed = [*common_keys, *own]
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
    common = {k: v for k, v in value.items() if k in common_keys and k != "kind"}
    return params, common


def _common_values(cls: Any, common: dict[str, Any], file: str, key: str, conv: Converters) -> dict[str, Any]:
    """Convert the common keys with the event dataclass's own type hints and ranges."""
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    out: dict[str, Any] = {}
    for name, value in common.items():
        sub = f"{key}.{name}"
        if name == "scope":
            out[name] = parse_scope(value, file, sub, conv)
        elif name in COST_KEYS:
            continue
        else:
            out[name] = conv.value(hints[name], value, file, sub)
            conv.check(fields[name].metadata, out[name], file, sub)
    costs = {k: v for k, v in common.items() if k in COST_KEYS}
    if "costs" in fields:
        out["costs"] = conv.dataclass(Costs, costs, file, key)
    return out
