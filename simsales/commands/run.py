"""`simsales run [FILE]`: one run of a scenario, printed against the 2023 figures and saved; a
non-default scenario is then compared with its baseline over paired replicates (common seeds)."""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
from pathlib import Path
from typing import Any

import pandas as pd

from simsales.commands.checks import check_memory, consumer_count, day_count, nonneg_int, positive_int, writable_folder
from simsales.experiments.report import MAX_RELATIVE, relative_change
from simsales.kpis import REGISTRY
from simsales.measures import FOCAL_SHARE, NEV_SHARE, PLAN_COST_SHARE
from simsales.model import MarketModel
from simsales.run import RunResult, covers_target_year, kpi_output, release_model

#: Paired replicates of a scenario-vs-baseline comparison unless --replicates says otherwise.
COMPARE_REPLICATES = 5
def register(sub: argparse._SubParsersAction) -> None:
    """Add the `run` subcommand."""
    p = sub.add_parser("run", help="run a scenario (default: the 2023 baseline) and compare with 2023")
    p.add_argument(
        "scenario", nargs="?", default=None,
        help="scenario TOML file, or a shipped one by name, e.g. shipped:strategy_ai_customer_service (default: 2023 baseline)",
    )  # fmt: skip
    p.add_argument("--days", type=day_count, default=None, help="recorded days (default: scenario's)")
    p.add_argument("--consumers", type=consumer_count, default=None, help="consumer agents (default: scenario's)")
    p.add_argument("--seed", type=nonneg_int, default=None, help="random seed (default: scenario's)")
    p.add_argument("--out", type=Path, default=None, help="folder for kpis.csv, Parquet series and plots (docs/outputs.md)")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    p.add_argument("--baseline", default=None, help="scenario to compare with, a file or shipped name (default: see below)")
    p.add_argument(
        "--no-baseline",
        action="store_true",
        help="skip the comparison; by default a scenario with shocks, strategies or risk rules is compared with "
        "itself without them, any other non-default scenario with the shipped baseline (same horizon and size)",
    )
    p.add_argument(
        "--replicates", type=positive_int, default=COMPARE_REPLICATES,
        help=f"paired replicates (common seeds) of the comparison (default {COMPARE_REPLICATES}; 1 = one seed, no interval)",
    )  # fmt: skip
    p.add_argument("--workers", type=positive_int, default=None, help="processes for the comparison runs (default: all cores)")
    p.set_defaults(func=execute)


def execute(args: argparse.Namespace) -> int:
    """Check every input, run, print the KPI table, write outputs, then compare with the baseline."""
    from simsales.scenario import load_scenario

    out = writable_folder(args.out, "--out")
    sizes = {"run.n_consumers": args.consumers, "run.days": args.days}
    # an override the scenario refuses is reported with the flag that set it
    spec = load_scenario(
        args.scenario,
        overrides={k: v for k, v in sizes.items() if v is not None},
        labels={"run.n_consumers": "--consumers", "run.days": "--days"},
    )
    seed = args.seed if args.seed is not None else spec.run.seed
    base_spec = None if args.no_baseline else baseline_for(spec, args.scenario, args.baseline)
    comparison = None
    if base_spec is not None:
        from simsales.experiments import plan

        comparison = comparison_experiment(spec, base_spec, args.replicates, seed)
        plan(comparison)  # validates both arms before anything runs
    workers = args.workers or os.cpu_count() or 1
    runs_at_once = min(workers, 2 * args.replicates) if comparison is not None else 1
    flags = (
        "--consumers" if args.consumers is not None else "run.n_consumers of the scenario",
        "--days" if args.days is not None else "run.days / run.warmup_days of the scenario",
    )
    note = check_memory(spec.run.n_consumers, spec.run.days + spec.run.warmup_days, runs_at_once, flags)
    if note:
        print(note)
    model = MarketModel(scenario=spec, seed=seed)
    model.run_model(progress=True)
    result = RunResult.from_model(model)
    scored = covers_target_year(result.daily)
    print(format_kpi_table(kpi_output(result.kpis, scored), scored))
    if out is not None:
        folder = result.save(out)
        if not args.no_plots:
            from simsales.plots import save_run_plots

            save_run_plots(result, folder)
        print(f"\nwrote {folder}/ (kpis.csv, daily/monthly/dealers .parquet{'' if args.no_plots else ', plots'}; columns: docs/outputs.md)")
    if comparison is not None:
        from simsales.experiments import make_executor, run_experiment

        exp_result = run_experiment(comparison, executor=make_executor(args.workers), progress=True)
        print(f"\n{comparison_heading(base_spec.name, args.replicates, comparison.root_seed)}")
        print(format_paired_table(exp_result.differences()))
        print("\nBy year, mean over replicates (baseline -> scenario):")
        monthly = exp_result.monthly
        print(format_yearly_table(monthly[monthly["arm"] == "baseline"], monthly[monthly["arm"] == "scenario"]))
        print_timeline(model)
    release_model(model)
    return 0


def comparison_experiment(spec: Any, base_spec: Any, replicates: int, seed: int) -> Any:
    """Baseline and scenario arms with common replicate seeds over every KPI (the experiment engine)."""
    from simsales.experiments import Arm, Experiment

    return Experiment(
        name=f"run-{spec.name}",
        arms=(Arm("baseline", scenario=base_spec), Arm("scenario", scenario=spec)),
        replicates=replicates,
        root_seed=seed,
        kpis=tuple(REGISTRY),
    )


def comparison_heading(base_name: str, replicates: int, root_seed: int) -> str:
    """The line above the comparison table: what was compared, over how many seeds."""
    if replicates == 1:
        return (f"Differences from {base_name}: ONE seed only (--replicates 1), so no interval: a difference may be "
                "noise; use --replicates 5 or more to judge it.")
    return (f"Differences from {base_name}: {replicates} paired replicates (the same seeds in both arms, from root "
            f"seed {root_seed}), mean change with its 95% interval; * marks an interval that excludes zero.")


def format_kpi_table(kpis: pd.DataFrame, scored: bool = True) -> str:
    """Simulated versus 2023 value for every KPI with its unit; hits and misses marked when the run covers 2023."""
    lines = [f"{'KPI':44s} {'unit':>15s} {'simulated':>12s} {'2023':>12s} {'error':>8s}  fit"]
    for row in kpis.itertuples():
        target = "" if pd.isna(row.target) else f"{row.target:12.4g}"
        error = "" if pd.isna(row.rel_error) else f"{row.rel_error:+8.1%}"
        mark = "" if row.within is None or pd.isna(row.within) else ("ok" if row.within else "miss")
        note = f"  ({row.note})" if getattr(row, "note", "") else ""
        lines.append(f"{row.id:44s} {row.unit:>15s} {row.value:12.4g} {target:>12s} {error:>8s}  {mark}{note}")
    scorable = int(kpis["target"].notna().sum())
    if not scored:
        lines.append(
            f"\nNot scored: the recorded window does not cover all of 2023, so its {scorable} KPIs with a 2023 figure "
            "are shown beside it but not marked ok/miss."
        )
        return "\n".join(lines)
    hit = int((kpis["within"] == True).sum())  # noqa: E712 - None marks an unscored KPI
    within20 = int((kpis["rel_error"].abs() <= 0.20).sum())
    lines.append(f"\n{hit}/{scorable} KPIs within their calibration tolerance; {within20}/{scorable} within ±20%.")
    return "\n".join(lines)


def baseline_for(spec: Any, scenario_arg: Any, baseline_arg: Any) -> Any:
    """The scenario to compare a run with, or None when the run is the shipped baseline itself."""
    from simsales.scenario import load_scenario

    if baseline_arg is not None:
        other = load_scenario(baseline_arg)
        return dataclasses.replace(other, run=spec.run)
    if spec.shocks or spec.strategies or spec.risk_rules:
        return dataclasses.replace(spec, name=f"{spec.name} without its events", shocks=(), strategies=(), risk_rules=())
    if scenario_arg is None:
        return None
    shipped = load_scenario()
    candidate = dataclasses.replace(shipped, run=spec.run)
    return None if candidate.to_dict() == dataclasses.replace(spec, name=shipped.name, description=shipped.description).to_dict() else candidate


def format_paired_table(diffs: pd.DataFrame) -> str:
    """Each KPI's unit, baseline and scenario means, the mean paired change with its 95% interval and
    the relative change (blank where the baseline is near zero or changes sign)."""
    lines = [f"{'KPI':44s} {'unit':>15s} {'baseline':>11s} {'scenario':>11s} {'change [95% interval]':>36s} {'rel':>8s}"]
    for row in diffs.itertuples():
        unit = REGISTRY[row.kpi].unit if row.kpi in REGISTRY else ""
        if math.isfinite(row.ci_low):
            change = f"{row.diff:+.4g} [{row.ci_low:+.4g}, {row.ci_high:+.4g}]{' *' if row.significant else '  '}"
        else:
            change = f"{row.diff:+.4g}" + ("" if row.n <= 1 else " [no interval]") + "  "
        rel = relative_change(row.baseline_mean, row.arm_mean)
        rel_text = "" if math.isnan(rel) else f"{rel:+8.1%}"
        lines.append(f"{row.kpi:44s} {unit:>15s} {row.baseline_mean:11.4g} {row.arm_mean:11.4g} {change:>36s} {rel_text:>8s}")
    lines.append(f"(rel blank: the baseline is zero, changes sign, or the change exceeds {MAX_RELATIVE:.0f}x the baseline.)")
    return "\n".join(lines)


def yearly(monthly: pd.DataFrame) -> pd.DataFrame:
    """Deliveries (million, real units), NEV and focal shares and plan costs per calendar year, mean over replicates."""
    cols = ["deliveries", "deliveries_BEV", "deliveries_PHEV", "deliveries_focal", "focal_revenue", "strategy_cost", "risk_cost"]
    frame = monthly.assign(year=pd.to_datetime(monthly["month"]).dt.year)
    keys = ["year", "replicate"] if "replicate" in frame.columns else ["year"]
    sums = frame.groupby(keys)[cols].sum().groupby("year").mean()
    return pd.DataFrame(
        {
            "deliveries (million)": sums["deliveries"] / 1e6,
            "NEV share %": 100 * NEV_SHARE.series(sums),
            "focal share %": 100 * FOCAL_SHARE.series(sums),
            "plan cost % of focal sales": 100 * PLAN_COST_SHARE.series(sums),
        }
    )


def format_yearly_table(base: pd.DataFrame, scenario: pd.DataFrame) -> str:
    """`yearly` of baseline -> scenario, one row per calendar year (a partial year is marked)."""
    b, s = yearly(base), yearly(scenario)
    lines = [f"{'year':6s}" + "".join(f"{c:>30s}" for c in b.columns)]
    for year in b.index:
        cells = "".join(f"{b.at[year, c]:>13.4g} -> {s.at[year, c]:<13.4g}" for c in b.columns)
        lines.append(f"{year:<6d}{cells}")
    runs = base["replicate"].nunique() if "replicate" in base.columns else 1
    days = base.groupby(pd.to_datetime(base["month"]).dt.year)["days"].sum() / max(runs, 1)
    partial = [int(y) for y, n in days.items() if n < 365]
    if partial:
        lines.append(f"(partial years, totals cover only the recorded months: {', '.join(map(str, partial))})")
    return "\n".join(lines)


def print_timeline(model: MarketModel) -> None:
    """The events placed on the run's timeline and the risk-rule firings."""
    events = model.timeline.events()
    if not events.empty:
        print("\nTimeline:")
        print(events.to_string(index=False))
    log = model.timeline.rule_log()
    if not log.empty:
        fired = log[log["fired"]]
        print(f"\nRisk rules: {len(log)} month-end checks, {len(fired)} firings")
        if not fired.empty:
            print(fired[["date", "rule", "metric", "value", "threshold", "action", "action_until", "cost"]].to_string(index=False))
