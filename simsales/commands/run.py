"""`simsales run [FILE]`: one run of a scenario, printed against the 2023 figures and saved."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pandas as pd

from simsales.model import MarketModel
from simsales.run import RunResult


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `run` subcommand."""
    p = sub.add_parser("run", help="run a scenario (default: the 2023 baseline) and compare with 2023")
    p.add_argument("scenario", nargs="?", default=None, help="scenario TOML file (default: shipped 2023 baseline)")
    p.add_argument("--days", type=int, default=None, help="recorded days (default: scenario's)")
    p.add_argument("--consumers", type=int, default=None, help="consumer agents (default: scenario's)")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: scenario's)")
    p.add_argument("--out", type=Path, default=None, help="folder for kpis.csv, Parquet series and plots")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    p.add_argument("--baseline", type=Path, default=None, help="scenario to compare with (default: see below)")
    p.add_argument(
        "--no-baseline",
        action="store_true",
        help="skip the comparison run; by default a scenario with shocks, strategies or risk rules is compared with "
        "itself without them, any other non-default scenario with the shipped baseline (same horizon, size, seed)",
    )
    p.set_defaults(func=execute)


def execute(args: argparse.Namespace) -> int:
    """Run, print the KPI table, write outputs."""
    model = MarketModel(scenario=args.scenario, n_consumers=args.consumers, days=args.days, seed=args.seed)
    model.run_model(progress=True)
    result = RunResult.from_model(model)
    print(format_kpi_table(result.kpis))
    base_spec = None if args.no_baseline else baseline_for(model.spec, args.scenario, args.baseline)
    if base_spec is not None:
        base = MarketModel(scenario=base_spec, seed=model.seed)
        base.run_model(progress=True)
        base_result = RunResult.from_model(base)
        print(f"\nDifferences from {base_spec.name} (same seed, horizon and size):")
        print(format_diff_table(base_result.kpis, result.kpis))
        print("\nBy year (baseline -> scenario):")
        print(format_yearly_table(base_result.monthly, result.monthly))
        print_timeline(model)
    if args.out is not None:
        folder = result.save(args.out)
        if not args.no_plots:
            from simsales.plots import save_run_plots

            save_run_plots(result, folder)
        print(f"\nwrote {folder}/ (kpis.csv, daily/monthly/dealers .parquet{'' if args.no_plots else ', plots'})")
    return 0


def format_kpi_table(kpis: pd.DataFrame) -> str:
    """Simulated versus 2023 value for every KPI, with hits and misses marked."""
    lines = [f"{'KPI':44s} {'simulated':>12s} {'2023':>12s} {'error':>8s}  fit"]
    for row in kpis.itertuples():
        target = "" if pd.isna(row.target) else f"{row.target:12.4g}"
        error = "" if pd.isna(row.rel_error) else f"{row.rel_error:+8.1%}"
        mark = "" if pd.isna(row.rel_error) else ("ok" if row.within else "miss")
        note = f"  ({row.note})" if getattr(row, "note", "") else ""
        lines.append(f"{row.id:44s} {row.value:12.4g} {target:>12s} {error:>8s}  {mark}{note}")
    hit = int(kpis["within"].sum())
    scored = int(kpis["target"].notna().sum())
    within20 = int((kpis["rel_error"].abs() <= 0.20).sum())
    lines.append(f"\n{hit}/{scored} KPIs within their calibration tolerance; {within20}/{scored} within ±20%.")
    return "\n".join(lines)


def baseline_for(spec: Any, scenario_arg: Any, baseline_arg: Any) -> Any:
    """The scenario to compare a run with, or None when the run is the shipped baseline itself."""
    import dataclasses

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


def format_diff_table(base: pd.DataFrame, scenario: pd.DataFrame) -> str:
    """Each KPI in the baseline and the scenario, the difference and the relative change."""
    merged = base[["id", "value", "unit"]].merge(scenario[["id", "value"]], on="id", suffixes=("_base", "_scn"))
    lines = [f"{'KPI':44s} {'baseline':>12s} {'scenario':>12s} {'change':>12s} {'rel':>8s}"]
    for row in merged.itertuples():
        change = row.value_scn - row.value_base
        rel = change / abs(row.value_base) if row.value_base and pd.notna(row.value_base) else float("nan")
        rel_text = "" if pd.isna(rel) else f"{rel:+8.1%}"
        lines.append(f"{row.id:44s} {row.value_base:12.4g} {row.value_scn:12.4g} {change:+12.4g} {rel_text:>8s}")
    return "\n".join(lines)


def format_yearly_table(base: pd.DataFrame, scenario: pd.DataFrame) -> str:
    """Deliveries, NEV share, focal share and plan costs per calendar year, baseline -> scenario."""

    def yearly(monthly: pd.DataFrame) -> pd.DataFrame:
        sums = monthly.groupby(monthly["month"].dt.year)[
            ["deliveries", "deliveries_BEV", "deliveries_PHEV", "deliveries_focal", "focal_revenue", "strategy_cost", "risk_cost"]
        ].sum()
        return pd.DataFrame(
            {
                "deliveries": sums["deliveries"],
                "nev_share_%": 100 * (sums["deliveries_BEV"] + sums["deliveries_PHEV"]) / sums["deliveries"],
                "focal_share_%": 100 * sums["deliveries_focal"] / sums["deliveries"],
                "plan_cost_%_focal_sales": 100 * (sums["strategy_cost"] + sums["risk_cost"]) / sums["focal_revenue"],
            }
        )

    b, s = yearly(base), yearly(scenario)
    lines = [f"{'year':6s}" + "".join(f"{c:>30s}" for c in b.columns)]
    for year in b.index:
        cells = "".join(f"{b.at[year, c]:>13.4g} -> {s.at[year, c]:<13.4g}" for c in b.columns)
        lines.append(f"{year:<6d}{cells}")
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
