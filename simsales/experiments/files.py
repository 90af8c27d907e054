"""Experiment spec files (`experiments/exp_*.toml`) -> `Experiment` objects, checked before any run.

Layout (every key optional unless noted; paths are relative to the spec file)::

    name = "exp_strategies"            # required
    question = "Which strategy raises the focal firm's profit, and how sure are we?"
    replicates = 20
    root_seed = 2023
    baseline = "baseline"              # arm every other arm is compared with (default: first)
    scenario = "baseline_2023.toml"    # default scenario of arms that name none
    kpis = ["market.total_sales", ...] # headline KPIs (default: HEADLINE_KPIS)
    shortfall_kpi = "focal.profit"     # expected shortfall of this KPI ...
    shortfall_alpha = 0.1              # ... over the worst 10% of replicates
    recovery_series = "focal_gross_margin"  # monthly series for months-to-recover

    [run]    n_consumers / days / warmup_days      # override every arm's size
    [smoke]  replicates / n_consumers / days / warmup_days / sensitivity_n / max_replicates / arms
             # the reduced size used by `--smoke` (CI); arms = [names] keeps only those arms;
             # a smoke size that sets days drops the [window] comparison (it is for the full horizon)

    # one design: [[arms]], [factors.*], [sample] or [sensitivity]
    [[arms]]  name, scenario, params = { "dotted.path" = value }
    [factors.NAME.LEVEL]  dotted overrides, optional scenario = "file.toml" or ["a.toml", "b.toml"]
                          (layered), optional shocks / strategies / risk_rules = [{...}] (added)
    [sample]  method = "lhs" | "sobol", n, seed, [sample.parameters] "dotted.path" = [low, high]
    [sensitivity]  method = "sobol" | "morris", n, seed, second_order, num_levels, [sensitivity.parameters]

    [[thresholds]]  kpi, above | below | at_least | at_most, relative = false, label
    [ensemble]  source = "calibration" | "file.parquet" | "file.csv"
    [adaptive]  max_replicates, batch, target_rel_width, [adaptive.target_width] "kpi" = width
    [window]    start = 2025-01-01, end, series = [...]   # monthly series compared over a window
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any, Literal

from simsales._paths import SHIPPED_PREFIX, default_file, defaults_root, resolve_reference
from simsales.experiments.designs import full_factorial, latin_hypercube, sobol_points
from simsales.experiments.ensemble import load_ensemble_source
from simsales.experiments.sensitivity import SensitivityDesign
from simsales.experiments.spec import HEADLINE_KPIS, WINDOW_SERIES, Adaptive, Arm, Experiment, thresholds_from
from simsales.kpis import REGISTRY
from simsales.scenario import ScenarioError
from simsales.scenario import bounds as B
from simsales.scenario.errors import did_you_mean
from simsales.scenario.loader import convert_value, read_toml

#: Largest replicate count or design size a spec may ask for.
MAX_RUNS = 100_000


def _ranged(low: float, high: float, exclusive_min: bool = False) -> dict[str, Any]:
    return {"min": low, "max": high, "exclusive_min": exclusive_min}


_COUNT = (int, _ranged(1, MAX_RUNS))
_SEED = (int, _ranged(0, B.MAX_SEED))
_NAMES = (tuple[str, ...], None)
#: Type and range of every scalar key of a spec file, by table ("" = top level); read with the
#: scenario loader's converter, so errors name the file, the key path and the allowed values.
TYPES: dict[str, dict[str, tuple[Any, dict[str, Any] | None]]] = {
    "": {
        "name": (str, None), "question": (str, None), "description": (str, None), "replicates": _COUNT, "root_seed": _SEED,
        "baseline": (str, None), "kpis": _NAMES, "shortfall_kpi": (str, None),
        "shortfall_alpha": (float, _ranged(0.0, 1.0, exclusive_min=True)), "recovery_series": (str, None),
    },
    "run": {
        "n_consumers": (int, _ranged(1, B.MAX_CONSUMERS)), "days": (int, _ranged(1, B.MAX_HORIZON_DAYS)),
        "warmup_days": (int, _ranged(0, B.MAX_HORIZON_DAYS)),
    },
    "window": {"start": (date, None), "end": (date, None), "series": _NAMES},
    "adaptive": {
        "max_replicates": _COUNT, "batch": _COUNT, "target_width": (dict[str, float], None),
        "target_rel_width": (float, _ranged(0.0, 100.0, exclusive_min=True)),
    },
    "sample": {"method": (Literal["lhs", "sobol"], None), "n": _COUNT, "seed": _SEED},
    "sensitivity": {
        "method": (Literal["sobol", "morris"], None), "n": _COUNT, "seed": _SEED, "second_order": (bool, None),
        "num_levels": (int, _ranged(2, 1000)), "num_resamples": _COUNT,
    },
    "ensemble": {"source": (str, None)},
}  # fmt: skip
TYPES["smoke"] = {**TYPES["run"], "replicates": _COUNT, "sensitivity_n": _COUNT, "max_replicates": _COUNT, "arms": _NAMES}
TOP_KEYS = {*TYPES[""], "scenario", "run", "smoke", "arms", "factors", "sample", "sensitivity", "thresholds", "ensemble", "adaptive", "window"}
WINDOW_KEYS = set(TYPES["window"])
RUN_KEYS = set(TYPES["run"])
SMOKE_KEYS = set(TYPES["smoke"])
ARM_KEYS = {"name", "scenario", "params"}
SAMPLE_KEYS = {*TYPES["sample"], "parameters"}
SENSITIVITY_KEYS = {*TYPES["sensitivity"], "parameters"}
ADAPTIVE_KEYS = set(TYPES["adaptive"])
ENSEMBLE_KEYS = set(TYPES["ensemble"])


#: Top-level tables of which an experiment spec has exactly one and a scenario none.
DESIGN_KEYS = ("arms", "factors", "sample", "sensitivity")


def is_experiment_spec(data: dict[str, Any]) -> bool:
    """True when a TOML file's contents are an experiment spec (it names a design), not a scenario."""
    return any(key in data for key in DESIGN_KEYS)


def find_spec(path: str | Path) -> Path:
    """The spec file: as given, or a shipped one by name (e.g. 'exp_strategies' or 'exp_strategies.toml')."""
    file = Path(str(path).removeprefix(SHIPPED_PREFIX))
    if file.is_file() and not str(path).startswith(SHIPPED_PREFIX):
        return file
    for candidate in (default_file(f"experiments/{file.name}"), default_file(f"experiments/{file.name}.toml")):
        if candidate.is_file():
            return candidate
    if file.is_dir():
        raise ScenarioError("is a folder, not an experiment spec file", file=str(path))
    shipped = [p.stem for p in (defaults_root() / "experiments").glob("exp_*.toml")]
    hint = did_you_mean(file.stem, shipped)
    raise ScenarioError(f"experiment file not found{hint}; shipped specs: {', '.join(sorted(shipped))}", file=str(path))


def load_experiment(path: str | Path, *, smoke: bool = False) -> Experiment:
    """Read and check an experiment spec; `smoke=True` applies its [smoke] table (reduced size for CI)."""
    file = find_spec(path)
    where = str(file)
    data = read_toml(file)
    _check_keys(data, TOP_KEYS, where, "")
    data = {**data, **_typed(data, "", where)}
    if "name" not in data:
        raise ScenarioError("an experiment needs a name", file=where, key="name")
    run = _table(data, "run", RUN_KEYS, where)
    smoke_table = _table(data, "smoke", SMOKE_KEYS, where)
    folder = file.parent
    default = _path(data.get("scenario"), folder, where, "scenario")
    arms, design = _arms(data, folder, default, where, smoke_table if smoke else {})
    if smoke and "arms" in smoke_table:
        names = [a.name for a in arms]
        for i, name in enumerate(smoke_table["arms"]):
            if name not in names:
                raise ScenarioError(f"unknown arm {name!r}{did_you_mean(str(name), names)}", file=where, key=f"smoke.arms[{i}]")
        arms = [a for a in arms if a.name in set(smoke_table["arms"])]
    kpis = tuple(data.get("kpis", HEADLINE_KPIS))
    for i, kpi in enumerate(kpis):
        if kpi not in REGISTRY:
            raise ScenarioError(f"unknown KPI {kpi!r}{did_you_mean(kpi, REGISTRY)}", file=where, key=f"kpis[{i}]")
    thresholds = thresholds_from(data.get("thresholds", []), where)
    for i, th in enumerate(thresholds):
        if th.kpi not in REGISTRY:
            raise ScenarioError(f"unknown KPI {th.kpi!r}{did_you_mean(th.kpi, REGISTRY)}", file=where, key=f"thresholds[{i}].kpi")
    ensemble = None
    if "ensemble" in data:
        table = _table(data, "ensemble", ENSEMBLE_KEYS, where)
        if "source" not in table:
            raise ScenarioError("needs 'source' ('calibration' or a .parquet/.csv file)", file=where, key="ensemble.source")
        source = table["source"] if table["source"] == "calibration" else _path(table["source"], folder, where, "ensemble.source")
        ensemble = load_ensemble_source(source, where)
    adaptive = None
    if "adaptive" in data:
        table = _table(data, "adaptive", ADAPTIVE_KEYS, where)
        if "max_replicates" not in table:
            raise ScenarioError("needs max_replicates", file=where, key="adaptive.max_replicates")
        for kpi, width in table.get("target_width", {}).items():
            convert_value(float, width, where, f"adaptive.target_width.{kpi}", _ranged(0.0, 1e300, exclusive_min=True))
            if kpi not in REGISTRY:
                raise ScenarioError(f"unknown KPI {kpi!r}{did_you_mean(kpi, REGISTRY)}", file=where, key=f"adaptive.target_width.{kpi}")
        cap = smoke_table.get("max_replicates", table["max_replicates"]) if smoke else table["max_replicates"]
        adaptive = Adaptive(
            max_replicates=cap,
            batch=table.get("batch", 4),
            target_width=dict(table.get("target_width", {})),
            target_rel_width=table.get("target_rel_width"),
        )
    window = _table(data, "window", WINDOW_KEYS, where)
    if smoke and "days" in smoke_table:
        window = {}  # the window compares the full horizon; a smoke run that shortens it has none
    size = {**run, **({k: smoke_table[k] for k in RUN_KEYS if k in smoke_table} if smoke else {})}
    replicates = smoke_table.get("replicates", data.get("replicates", 10)) if smoke else data.get("replicates", 10)
    if adaptive is not None and adaptive.max_replicates < replicates:
        adaptive = replace(adaptive, max_replicates=replicates)
    return Experiment(
        name=str(data["name"]),
        arms=tuple(arms),
        replicates=replicates,
        root_seed=data.get("root_seed", 2023),
        baseline=data.get("baseline"),
        n_consumers=size.get("n_consumers"),
        days=size.get("days"),
        warmup_days=size.get("warmup_days"),
        kpis=kpis,
        question=str(data.get("question", data.get("description", ""))),
        thresholds=thresholds,
        shortfall_kpi=str(data.get("shortfall_kpi", "focal.profit")),
        shortfall_alpha=data.get("shortfall_alpha", 0.1),
        recovery_series=data.get("recovery_series", "focal_gross_margin"),
        window_start=window["start"].isoformat() if "start" in window else None,
        window_end=window["end"].isoformat() if "end" in window else None,
        window_series=tuple(window.get("series", WINDOW_SERIES)),
        ensemble=ensemble,
        adaptive=adaptive,
        sensitivity=design,
        source=where,
    )


def _arms(data: dict[str, Any], folder: Path, default: Any, where: str, smoke: dict[str, Any]) -> tuple[list[Arm], SensitivityDesign | None]:
    designs = [k for k in DESIGN_KEYS if k in data]
    if len(designs) != 1:
        raise ScenarioError(
            f"give exactly one design: [[arms]], [factors], [sample] or [sensitivity] (found {designs or 'none'})",
            file=where,
        )
    kind = designs[0]
    if kind == "arms":
        arms = []
        if not isinstance(data["arms"], list) or not all(isinstance(item, dict) for item in data["arms"]):
            raise ScenarioError(
                f"expected [[arms]] tables (name, scenario, params), got {data['arms']!r}", file=where, key="arms"
            )
        for i, item in enumerate(data["arms"]):
            _check_keys(item, ARM_KEYS, where, f"arms[{i}]")
            if "name" not in item:
                raise ScenarioError("an arm needs a name", file=where, key=f"arms[{i}].name")
            scenario = _path(item["scenario"], folder, where, f"arms[{i}].scenario") if "scenario" in item else default
            arms.append(Arm(name=str(item["name"]), scenario=scenario, params=dict(item.get("params", {}))))
        return arms, None
    if kind == "factors":
        factors: dict[str, dict[str, dict[str, Any]]] = {}
        for fname, levels in data["factors"].items():
            if not isinstance(levels, dict):
                raise ScenarioError("a factor is a table of levels", file=where, key=f"factors.{fname}")
            factors[fname] = {}
            for level, spec in levels.items():
                if not isinstance(spec, dict):
                    raise ScenarioError("a level is a table of overrides", file=where, key=f"factors.{fname}.{level}")
                spec = dict(spec)
                if isinstance(spec.get("scenario"), list):
                    spec["scenario"] = [
                        _path(f, folder, where, f"factors.{fname}.{level}.scenario[{i}]") for i, f in enumerate(spec["scenario"])
                    ]
                elif "scenario" in spec:
                    spec["scenario"] = _path(spec["scenario"], folder, where, f"factors.{fname}.{level}.scenario")
                factors[fname][str(level)] = spec
        return full_factorial(factors, default, where), None
    if kind == "sample":
        table = _table(data, "sample", SAMPLE_KEYS, where)
        ranges = _ranges(table, where, "sample")
        method = table.get("method", "lhs")
        n = table.get("n", 16)
        seed = table.get("seed", 0)
        if method == "lhs":
            return latin_hypercube(ranges, n, seed, default), None
        if method == "sobol":
            return sobol_points(ranges, n, seed, default), None
        raise ScenarioError(f"unknown method {method!r}; allowed: lhs, sobol", file=where, key="sample.method")
    table = _table(data, "sensitivity", SENSITIVITY_KEYS, where)
    try:
        design = SensitivityDesign(
            method=table.get("method", "sobol"),
            parameters=_ranges(table, where, "sensitivity"),
            n=smoke.get("sensitivity_n", table.get("n", 8)),
            seed=table.get("seed", 0),
            second_order=table.get("second_order", False),
            num_levels=table.get("num_levels", 4),
            num_resamples=table.get("num_resamples", 200),
        )
    except ScenarioError as exc:
        raise ScenarioError(exc.detail, file=where, key=exc.key) from exc
    return design.arms(default), design


def _ranges(table: dict[str, Any], where: str, section: str) -> dict[str, tuple[float, float]]:
    params = table.get("parameters")
    if not isinstance(params, dict) or not params:
        raise ScenarioError("needs a [parameters] table of 'dotted.path' = [low, high]", file=where, key=f"{section}.parameters")
    out = {}
    for key, bounds in params.items():
        sub = f"{section}.parameters.{key}"
        if not isinstance(bounds, list) or len(bounds) != 2:
            raise ScenarioError(f"must be [low, high], got {bounds!r}", file=where, key=sub)
        low, high = (convert_value(float, b, where, f"{sub}[{i}]") for i, b in enumerate(bounds))
        if low > high:
            raise ScenarioError(f"low {low} is above high {high}; must be [low, high]", file=where, key=sub)
        out[str(key)] = (low, high)
    return out


def _table(data: dict[str, Any], key: str, allowed: set[str], where: str) -> dict[str, Any]:
    table = data.get(key, {})
    if not isinstance(table, dict):
        raise ScenarioError(f"must be a table [{key}], got {table!r}", file=where, key=key)
    _check_keys(table, allowed, where, key)
    return {**table, **_typed(table, key, where)}


def _typed(table: dict[str, Any], prefix: str, where: str) -> dict[str, Any]:
    """The table's scalar keys converted and range-checked by `TYPES` (other keys untouched)."""
    out = {}
    for name, (tp, meta) in TYPES.get(prefix, {}).items():
        if name in table:
            out[name] = convert_value(tp, table[name], where, f"{prefix}.{name}" if prefix else name, meta)
    return out


def _check_keys(table: dict[str, Any], allowed: set[str], where: str, prefix: str) -> None:
    for key in table:
        if key not in allowed:
            path = f"{prefix}.{key}" if prefix else key
            raise ScenarioError(
                f"unknown key{did_you_mean(key, allowed)}; allowed: {', '.join(sorted(allowed))}", file=where, key=path
            )


def _path(value: Any, folder: Path, where: str, key: str) -> Path | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ScenarioError("must be a file path string", file=where, key=key)
    path = resolve_reference(folder, value)
    if not path.is_file():
        raise ScenarioError(f"file not found: {path}", file=where, key=key)
    return path
