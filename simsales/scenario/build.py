"""Raw scenario dicts into validated scenario objects: typed conversion, ranges, cross-section checks, overrides.

Kept apart from the file reader (`loader.py`) and free of any import of the schema: the class
to build is passed in (`build(Scenario, raw, file)`), so `Scenario.replace` can use this module
and the schema, the builder and the loader import one another in one direction only
(loader -> schema -> build).
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, TypeVar

from simsales.scenario.bounds import check_sizes
from simsales.scenario.errors import ScenarioError, did_you_mean
from simsales.scenario.events.parsing import PARSERS
from simsales.scenario.events.validation import check_events

#: Top-level keys of a scenario file that are not sections of `Scenario`.
META_KEYS = ("extends", "fitted")

T = TypeVar("T")


def sections(cls: type) -> tuple[str, ...]:
    """The top-level sections of a scenario class (its dataclass fields)."""
    return tuple(f.name for f in dataclasses.fields(cls))


def build(cls: type[T], raw: dict[str, Any], file: str) -> T:
    """Convert a resolved raw dict into a validated scenario of class `cls` (normally `Scenario`)."""
    allowed = sections(cls)
    unknown = [k for k in raw if k not in allowed and k not in META_KEYS]
    for key in unknown:
        raise ScenarioError(
            f"unknown section{did_you_mean(key, allowed)}; allowed: {', '.join(allowed)}",
            file=file,
            key=key,
        )
    scenario = _convert(cls, raw, file, "")
    check_cross_references(scenario, file)
    return scenario


def check_cross_references(scenario: Any, file: str) -> None:
    """Checks that span sections: product ids, shares that must sum to one, the horizon."""
    ids = [p.id for p in scenario.products]
    dupes = {i for i in ids if ids.count(i) > 1}
    if dupes:
        raise ScenarioError(f"duplicate product ids: {sorted(dupes)}", file=file, key="products")
    for i, fmt in enumerate(scenario.network.formats):
        for product in fmt.products:
            if product not in ids:
                raise ScenarioError(
                    f"unknown product '{product}'{did_you_mean(product, ids)}; known: {', '.join(ids)}",
                    file=file,
                    key=f"network.formats[{i}].products",
                )
    shares = sum(f.share for f in scenario.network.formats)
    if not math.isclose(shares, 1.0, abs_tol=1e-6):
        raise ScenarioError(f"format shares sum to {shares:.4f}, must sum to 1", file=file, key="network.formats")
    tiers = scenario.network.lower_tier_dealer_share + scenario.network.tier1_dealer_share
    if tiers > 1.0:
        raise ScenarioError(
            f"tier-1 and lower-tier store shares sum to {tiers:.3f} > 1", file=file, key="network"
        )
    check_sizes(scenario, file)
    check_events(scenario, file)


def apply_overrides(scenario: T, overrides: dict[str, Any], source: str = "overrides", labels: Mapping[str, str] | None = None) -> T:
    """A validated copy of `scenario` with dotted-path values replaced.

    An error in an overridden value names the override (its label, e.g. '--days', when `labels`
    gives one); an error elsewhere that an override caused (a shock cut out of a shorter horizon)
    says which overrides were applied.
    """
    if not overrides:
        return scenario
    labels = labels or {}
    raw = scenario.to_dict()  # type: ignore[attr-defined]
    for dotted, value in overrides.items():
        set_dotted(raw, dotted, value, labels.get(dotted, source))
    try:
        return build(type(scenario), raw, source)
    except ScenarioError as exc:
        if exc.key in overrides:
            raise ScenarioError(exc.detail, file=labels.get(exc.key, source), key=exc.key) from None
        applied = ", ".join(f"{labels[k]} {v}" if k in labels else f"{k} = {v!r}" for k, v in overrides.items())
        raise ScenarioError(f"{exc.detail} (after the overrides {applied})", file=source, key=exc.key) from None


def set_dotted(raw: dict[str, Any], dotted: str, value: Any, source: str) -> None:
    """Set a dotted path in a raw scenario dict; an unknown section or parameter is an error naming `source`."""
    parts = dotted.split(".")
    node: Any = raw
    for _i, part in enumerate(parts[:-1]):
        if isinstance(node, list):
            node = _list_item(node, part, dotted, source)
            continue
        if part not in node or not isinstance(node[part], (dict, list)):
            allowed = [k for k, v in node.items() if isinstance(v, (dict, list))]
            raise ScenarioError(
                f"unknown section '{part}'{did_you_mean(part, allowed)}; allowed: {', '.join(allowed)}",
                file=source,
                key=dotted,
            )
        node = node[part]
    leaf = parts[-1]
    if isinstance(node, list):
        raise ScenarioError("path ends at a list; name an item field", file=source, key=dotted)
    if leaf not in node:
        raise ScenarioError(
            f"unknown parameter '{leaf}'{did_you_mean(leaf, node)}; allowed: {', '.join(node)}",
            file=source,
            key=dotted,
        )
    node[leaf] = value


def _list_item(items: list[Any], part: str, dotted: str, source: str) -> Any:
    """Pick a list entry by its 'id' or 'name' field (e.g. network.formats.ice_4s.share)."""
    for item in items:
        if isinstance(item, dict) and part in (item.get("id"), item.get("name")):
            return item
    names = [str(i.get("id", i.get("name"))) for i in items if isinstance(i, dict)]
    raise ScenarioError(
        f"no entry named '{part}'{did_you_mean(part, names)}; entries: {', '.join(names)}",
        file=source,
        key=dotted,
    )


def convert_value(tp: Any, value: Any, file: str | None, key: str, meta: Mapping[str, Any] | None = None) -> Any:
    """Convert one value to type `tp` and check it against field metadata (min, max, ...), with the
    scenario loader's rules and messages; for other files read with the same machinery (experiment specs)."""
    converted = _convert(tp, value, file or "", key)
    if meta:
        _check_metadata(meta, converted, file or "", key)
    return converted


class _Converters:
    """What the event parsers (`simsales.scenario.events.parsing`) use to convert their parts with the loader's rules."""

    value = staticmethod(lambda tp, value, file, key: _convert(tp, value, file, key))
    dataclass = staticmethod(lambda cls, value, file, key: _convert_dataclass(cls, value, file, key))
    check = staticmethod(lambda meta, value, file, key: _check_metadata(meta, value, file, key))


def _convert(tp: Any, value: Any, file: str, key: str) -> Any:
    origin = typing.get_origin(tp)
    parser = PARSERS.get(tp) if isinstance(tp, type) else None
    if parser is not None:  # events: kind, common keys and parameters side by side
        return parser(value, file, key, _Converters)
    if origin in (typing.Union, types.UnionType):  # only `X | None`: TOML has no null, absent keys keep defaults
        arms = [a for a in typing.get_args(tp) if a is not type(None)]
        return _convert(arms[0], value, file, key)
    if dataclasses.is_dataclass(tp):
        return _convert_dataclass(tp, value, file, key)
    if origin is typing.Literal:
        allowed = typing.get_args(tp)
        if value not in allowed:
            hint = did_you_mean(str(value), [str(a) for a in allowed])
            raise ScenarioError(
                f"'{value}' is not allowed{hint}; allowed: {', '.join(map(str, allowed))}", file=file, key=key
            )
        return value
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise ScenarioError(f"expected a list, got {type(value).__name__}", file=file, key=key)
        (item_tp, _) = typing.get_args(tp)
        return tuple(_convert(item_tp, v, file, f"{key}[{i}]") for i, v in enumerate(value))
    if origin is dict:
        if not isinstance(value, dict):
            raise ScenarioError(f"expected a table, got {type(value).__name__}", file=file, key=key)
        _, val_tp = typing.get_args(tp)
        return {k: _convert(val_tp, v, file, f"{key}.{k}") for k, v in value.items()}
    if tp is bool:
        if not isinstance(value, bool):
            raise ScenarioError(f"expected true or false, got {value!r}", file=file, key=key)
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                return int(value)
            raise ScenarioError(f"expected a whole number, got {value!r}", file=file, key=key)
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ScenarioError(f"expected a number, got {value!r}", file=file, key=key)
        if not math.isfinite(value):
            raise ScenarioError(f"expected a finite number, got {value!r}", file=file, key=key)
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ScenarioError(f"expected text, got {value!r}", file=file, key=key)
        return value
    if tp is date:
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        raise ScenarioError(f"expected a date like 2023-01-01, got {value!r}", file=file, key=key)
    raise TypeError(f"unsupported field type {tp!r} at {key}")  # a bug in the schema, not in the input


def _convert_dataclass(cls: Any, value: Any, file: str, key: str) -> Any:
    if not isinstance(value, dict):
        raise ScenarioError(f"expected a table, got {type(value).__name__}", file=file, key=key or "<root>")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for name in value:
        if name not in fields and not (not key and name in META_KEYS):
            raise ScenarioError(
                f"unknown key{did_you_mean(name, fields)}; allowed: {', '.join(fields)}",
                file=file,
                key=_join(key, name),
            )
    kwargs = {}
    for name, f in fields.items():
        sub = _join(key, name)
        if name not in value:
            if f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING:
                continue
            raise ScenarioError("missing required value", file=file, key=sub)
        converted = _convert(hints[name], value[name], file, sub)
        _check_metadata(f.metadata, converted, file, sub)
        kwargs[name] = converted
    return cls(**kwargs)


def _check_metadata(meta: Any, value: Any, file: str, key: str) -> None:
    if "keys" in meta:
        allowed = meta["keys"]
        for k in value:
            if k not in allowed:
                raise ScenarioError(
                    f"unknown key '{k}'{did_you_mean(k, allowed)}; allowed: {', '.join(allowed)}",
                    file=file,
                    key=key,
                )
        missing = [k for k in allowed if k not in value] if meta.get("complete") else []
        if missing:
            raise ScenarioError(f"missing {', '.join(missing)}; give every one of {', '.join(allowed)}", file=file, key=key)
        low, high = meta.get("range", (0.0, 1.0))
        for k, v in value.items():
            if not low <= v <= high:
                what = "share" if "range" not in meta else "value"
                raise ScenarioError(f"{what} {v} outside [{low:g}, {high:g}]", file=file, key=f"{key}.{k}")
        if meta.get("simplex") and not math.isclose(sum(value.values()), 1.0, abs_tol=1e-6):
            raise ScenarioError(f"shares sum to {sum(value.values()):.4f}, must sum to 1", file=file, key=key)
        return
    if "min" in meta or "max" in meta:
        low, high = meta.get("min"), meta.get("max")
        too_low = low is not None and (value <= low if meta.get("exclusive_min") else value < low)
        if too_low or (high is not None and value > high):
            raise ScenarioError(f"{value} is out of range; allowed: {allowed_range(meta)}", file=file, key=key)


def allowed_range(meta: Any) -> str:
    """The range in a field's metadata as text, e.g. '(0.0, 100.0]' or '>= 0'."""
    low, high = meta.get("min"), meta.get("max")
    show = {k: _number(v) for k, v in (("min", low), ("max", high)) if v is not None}
    if high is None:
        return f"> {show['min']}" if meta.get("exclusive_min") else f">= {show['min']}"
    if low is None:
        return f"<= {show['max']}"
    return f"{'(' if meta.get('exclusive_min') else '['}{show['min']}, {show['max']}]"


def _number(v: Any) -> str:
    if isinstance(v, date):
        return v.isoformat()
    return str(v) if abs(v) < 1e6 else f"{v:g}"


def _join(key: str, name: str) -> str:
    return f"{key}.{name}" if key else name
