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
             # the reduced size used by `--smoke` (CI); arms = [names] keeps only those arms

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
from pathlib import Path
from typing import Any

from simsales._paths import SHIPPED_PREFIX, default_file, defaults_root, resolve_reference
from simsales.experiments.designs import full_factorial, latin_hypercube, sobol_points
from simsales.experiments.ensemble import load_ensemble_source
from simsales.experiments.sensitivity import SensitivityDesign
from simsales.experiments.spec import HEADLINE_KPIS, WINDOW_SERIES, Adaptive, Arm, Experiment, thresholds_from
from simsales.kpis import REGISTRY
from simsales.scenario import ScenarioError
from simsales.scenario.errors import did_you_mean
from simsales.scenario.loader import read_toml

TOP_KEYS = {
    "name", "question", "description", "replicates", "root_seed", "baseline", "scenario", "kpis",
    "shortfall_kpi", "shortfall_alpha", "recovery_series",
    "run", "smoke", "arms", "factors", "sample", "sensitivity", "thresholds", "ensemble", "adaptive", "window",
}  # fmt: skip
WINDOW_KEYS = {"start", "end", "series"}
RUN_KEYS = {"n_consumers", "days", "warmup_days"}
SMOKE_KEYS = {"replicates", "n_consumers", "days", "warmup_days", "sensitivity_n", "max_replicates", "arms"}
ARM_KEYS = {"name", "scenario", "params"}
SAMPLE_KEYS = {"method", "n", "seed", "parameters"}
SENSITIVITY_KEYS = {"method", "n", "seed", "second_order", "num_levels", "num_resamples", "parameters"}
ADAPTIVE_KEYS = {"max_replicates", "batch", "target_width", "target_rel_width"}
ENSEMBLE_KEYS = {"source"}


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
        cap = int(smoke_table.get("max_replicates", table["max_replicates"])) if smoke else int(table["max_replicates"])
        adaptive = Adaptive(
            max_replicates=cap,
            batch=int(table.get("batch", 4)),
            target_width={str(k): float(v) for k, v in dict(table.get("target_width", {})).items()},
            target_rel_width=float(table["target_rel_width"]) if "target_rel_width" in table else None,
        )
    window = _table(data, "window", WINDOW_KEYS, where)
    size = {**run, **({k: smoke_table[k] for k in RUN_KEYS if k in smoke_table} if smoke else {})}
    replicates = int(smoke_table.get("replicates", data.get("replicates", 10)) if smoke else data.get("replicates", 10))
    if adaptive is not None and adaptive.max_replicates < replicates:
        adaptive = replace(adaptive, max_replicates=replicates)
    return Experiment(
        name=str(data["name"]),
        arms=tuple(arms),
        replicates=replicates,
        root_seed=int(data.get("root_seed", 2023)),
        baseline=data.get("baseline"),
        n_consumers=size.get("n_consumers"),
        days=size.get("days"),
        warmup_days=size.get("warmup_days"),
        kpis=kpis,
        question=str(data.get("question", data.get("description", ""))),
        thresholds=thresholds,
        shortfall_kpi=str(data.get("shortfall_kpi", "focal.profit")),
        shortfall_alpha=float(data.get("shortfall_alpha", 0.1)),
        recovery_series=str(data.get("recovery_series", "focal_gross_margin")),
        window_start=str(window["start"]) if "start" in window else None,
        window_end=str(window["end"]) if "end" in window else None,
        window_series=tuple(window.get("series", WINDOW_SERIES)),
        ensemble=ensemble,
        adaptive=adaptive,
        sensitivity=design,
        source=where,
    )


def _arms(data: dict[str, Any], folder: Path, default: Any, where: str, smoke: dict[str, Any]) -> tuple[list[Arm], SensitivityDesign | None]:
    designs = [k for k in ("arms", "factors", "sample", "sensitivity") if k in data]
    if len(designs) != 1:
        raise ScenarioError(
            f"give exactly one design: [[arms]], [factors], [sample] or [sensitivity] (found {designs or 'none'})",
            file=where,
        )
    kind = designs[0]
    if kind == "arms":
        arms = []
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
        n = int(table.get("n", 16))
        seed = int(table.get("seed", 0))
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
            n=int(smoke.get("sensitivity_n", table.get("n", 8))),
            seed=int(table.get("seed", 0)),
            second_order=bool(table.get("second_order", False)),
            num_levels=int(table.get("num_levels", 4)),
            num_resamples=int(table.get("num_resamples", 200)),
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
        if not isinstance(bounds, list) or len(bounds) != 2:
            raise ScenarioError("must be [low, high]", file=where, key=f"{section}.parameters.{key}")
        out[str(key)] = (float(bounds[0]), float(bounds[1]))
    return out


def _table(data: dict[str, Any], key: str, allowed: set[str], where: str) -> dict[str, Any]:
    table = data.get(key, {})
    if not isinstance(table, dict):
        raise ScenarioError("must be a table", file=where, key=key)
    _check_keys(table, allowed, where, key)
    return table


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
