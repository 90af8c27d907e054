"""Read scenario TOML files (with `extends` and section files) into a validated `Scenario`.

A scenario file is data only: TOML has no code, and section references are file paths
resolved relative to the file that names them.  Every error names the file, the key path
and what is allowed.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
import types
import typing
from datetime import date, datetime
from pathlib import Path
from collections.abc import Mapping
from typing import Any

from simsales._paths import SHIPPED_PREFIX, default_scenario_path, resolve_reference, shipped_file, shipped_names
from simsales.scenario.bounds import check_sizes
from simsales.scenario.errors import ScenarioError, did_you_mean
from simsales.scenario.events import check_events
from simsales.scenario.schema import Scenario

#: Top-level keys of a scenario file that are not sections of `Scenario`.
META_KEYS = ("extends", "fitted")
#: Sections that may be given as a path to another TOML file holding that section.
SECTION_FIELDS = tuple(f.name for f in dataclasses.fields(Scenario))
#: List sections whose entries may name a spec file (`spec = "file.toml"`) holding their keys.
EVENT_SECTIONS = ("shocks", "strategies")


def load_scenario(
    path: str | Path | None = None, overrides: dict[str, Any] | None = None, labels: Mapping[str, str] | None = None
) -> Scenario:
    """Load and validate a scenario file (default: the shipped 2023 baseline).

    `path` may also be `shipped:NAME` or the bare name of a shipped file.  `labels` names where
    each override came from (e.g. {"run.days": "--days"}), so an error an override causes names
    the flag as well as the file.
    """
    file = find_scenario(path) if path is not None else default_scenario_path()
    raw = read_scenario_dict(file)
    scenario = build_scenario(raw, str(file))
    return apply_overrides(scenario, overrides or {}, source=f"overrides of {file}", labels=labels)


def find_scenario(ref: str | Path) -> Path:
    """A scenario file by path, as `shipped:NAME`, or by the bare name of a shipped file (e.g.
    'strategy_ai_customer_service'), so the same names work in the CLI, the Python API and any folder."""
    text, path = str(ref), Path(ref)
    if not text.startswith(SHIPPED_PREFIX) and path.exists():
        return path
    found = shipped_file(text) if text.startswith(SHIPPED_PREFIX) or path.parent == Path(".") else None
    if found is not None:
        return found
    raise ScenarioError(f"file not found{_shipped_hint(text)}", file=text)


def _shipped_hint(ref: str) -> str:
    """' (did you mean 'shipped:NAME'?)' for the shipped file nearest a missing reference."""
    stem = Path(ref.removeprefix(SHIPPED_PREFIX)).stem
    return did_you_mean(SHIPPED_PREFIX + stem, [SHIPPED_PREFIX + n for n in shipped_names()])


def read_scenario_dict(file: Path, _chain: tuple[Path, ...] = (), _referrer: tuple[Path, str, str] | None = None) -> dict[str, Any]:
    """The fully resolved raw dict of a file: parents merged, section files and fitted values applied."""
    file = Path(file).resolve()
    if file in _chain:
        cycle = " -> ".join(p.name for p in (*_chain, file))
        raise ScenarioError(f"circular 'extends': {cycle}", file=str(file), key="extends")
    data = read_toml(file) if _referrer is None else _read_ref(file, *_referrer)
    parent = data.pop("extends", None)
    if parent is not None:
        if not isinstance(parent, str):
            raise ScenarioError("must be a file path string", file=str(file), key="extends")
        base = read_scenario_dict(_resolve(file, parent, "extends"), (*_chain, file), (file, "extends", parent))
    else:
        base = {}
    for key in list(data):
        if key in SECTION_FIELDS and isinstance(data[key], str) and key not in ("name", "description"):
            data[key] = _section_from_file(_resolve(file, data[key], key), key, file, data[key])
    for section in EVENT_SECTIONS:
        if isinstance(data.get(section), list):
            data[section] = [_event_from_spec(file, item, f"{section}[{i}]") for i, item in enumerate(data[section])]
    fitted = data.pop("fitted", None)
    merged = _deep_merge(base, data)
    if fitted is not None:
        if not isinstance(fitted, str):
            raise ScenarioError("must be a file path string", file=str(file), key="fitted")
        fitted_file = _resolve(file, fitted, "fitted")
        params = _read_ref(fitted_file, file, "fitted", fitted).get("parameters", {})
        for dotted, value in params.items():
            _set_dotted(merged, dotted, value, str(fitted_file))
    return merged


def build_scenario(raw: dict[str, Any], file: str) -> Scenario:
    """Convert a resolved raw dict into a validated `Scenario`."""
    unknown = [k for k in raw if k not in SECTION_FIELDS and k not in META_KEYS]
    for key in unknown:
        raise ScenarioError(
            f"unknown section{did_you_mean(key, SECTION_FIELDS)}; allowed: {', '.join(SECTION_FIELDS)}",
            file=file,
            key=key,
        )
    scenario = _convert(Scenario, raw, file, "")
    check_cross_references(scenario, file)
    return scenario


def check_cross_references(scenario: Scenario, file: str) -> None:
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


def apply_overrides(
    scenario: Scenario, overrides: dict[str, Any], source: str = "overrides", labels: Mapping[str, str] | None = None
) -> Scenario:
    """A validated copy of `scenario` with dotted-path values replaced.

    An error in an overridden value names the override (its label, e.g. '--days', when `labels`
    gives one); an error elsewhere that an override caused (a shock cut out of a shorter horizon)
    says which overrides were applied.
    """
    if not overrides:
        return scenario
    labels = labels or {}
    raw = scenario.to_dict()
    for dotted, value in overrides.items():
        _set_dotted(raw, dotted, value, labels.get(dotted, source))
    try:
        return build_scenario(raw, source)
    except ScenarioError as exc:
        if exc.key in overrides:
            raise ScenarioError(exc.detail, file=labels.get(exc.key, source), key=exc.key) from None
        applied = ", ".join(f"{labels[k]} {v}" if k in labels else f"{k} = {v!r}" for k, v in overrides.items())
        raise ScenarioError(f"{exc.detail} (after the overrides {applied})", file=source, key=exc.key) from None


# --- internals -------------------------------------------------------------------------------


def read_toml(file: str | Path) -> dict[str, Any]:
    """A TOML file as a dict; a missing or malformed file is a ScenarioError naming it."""
    try:
        with open(file, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ScenarioError("file not found", file=str(file)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"not valid TOML: {exc}", file=str(file)) from None
    except RecursionError:
        raise ScenarioError("arrays or tables are nested too deeply to read", file=str(file)) from None
    except IsADirectoryError:
        raise ScenarioError("is a folder, not a TOML file", file=str(file)) from None
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"not a text (UTF-8) TOML file: {exc.reason}", file=str(file)) from None
    except OSError as exc:  # no permission, ...
        raise ScenarioError(f"cannot be read as a TOML file: {exc.strerror or exc}", file=str(file)) from None


def _resolve(file: Path, ref: str, key: str) -> Path:
    target = resolve_reference(file.parent, ref)
    if target.is_dir():
        raise ScenarioError(f"refers to '{ref}', which is a folder; name a TOML file", file=str(file), key=key)
    if not target.is_file():
        raise ScenarioError(f"refers to '{ref}', which does not exist{_shipped_hint(ref)}", file=str(file), key=key)
    return target


def _read_ref(target: Path, referrer: Path, key: str, ref: str) -> dict[str, Any]:
    """Read a file another file names; a file that cannot be read is blamed on the reference too."""
    try:
        return read_toml(target)
    except ScenarioError as exc:
        raise ScenarioError(f"refers to '{ref}' ({target}), which cannot be read: {exc.detail}", file=str(referrer), key=key) from None


def _section_from_file(file: Path, section: str, referrer: Path | None = None, ref: str | None = None) -> Any:
    data = read_toml(file) if referrer is None else _read_ref(file, referrer, section, ref or str(file))
    if section not in data:
        raise ScenarioError(f"has no [{section}] section", file=str(file), key=section)
    return data[section]


def _event_from_spec(file: Path, item: Any, key: str) -> Any:
    """An event table with `spec = "file.toml"`: the file's top-level keys, overridden by the table's own."""
    if not isinstance(item, dict) or "spec" not in item:
        return item
    ref = item["spec"]
    if not isinstance(ref, str):
        raise ScenarioError("must be a file path string", file=str(file), key=f"{key}.spec")
    base = _read_ref(_resolve(file, ref, f"{key}.spec"), file, f"{key}.spec", ref)
    if not isinstance(base, dict):
        raise ScenarioError(f"refers to '{ref}', which is not a table of event keys", file=str(file), key=f"{key}.spec")
    return {**base, **{k: v for k, v in item.items() if k != "spec"}}


def _deep_merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _set_dotted(raw: dict[str, Any], dotted: str, value: Any, source: str) -> None:
    parts = dotted.split(".")
    node: Any = raw
    for i, part in enumerate(parts[:-1]):
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
    """What event classes' `from_raw` use to convert their parts with the loader's rules."""

    value = staticmethod(lambda tp, value, file, key: _convert(tp, value, file, key))
    dataclass = staticmethod(lambda cls, value, file, key: _convert_dataclass(cls, value, file, key))
    check = staticmethod(lambda meta, value, file, key: _check_metadata(meta, value, file, key))


def _convert(tp: Any, value: Any, file: str, key: str) -> Any:
    origin = typing.get_origin(tp)
    if isinstance(tp, type) and hasattr(tp, "from_raw"):
        return tp.from_raw(value, file, key, _Converters)
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
