"""`simsales run [FILE]`: one run of a scenario, printed against the 2023 figures and saved."""

from __future__ import annotations

import argparse
from pathlib import Path

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
    p.set_defaults(func=execute)


def execute(args: argparse.Namespace) -> int:
    """Run, print the KPI table, write outputs."""
    model = MarketModel(scenario=args.scenario, n_consumers=args.consumers, days=args.days, seed=args.seed)
    model.run_model(progress=True)
    result = RunResult.from_model(model)
    print(format_kpi_table(result.kpis))
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
        lines.append(f"{row.id:44s} {row.value:12.4g} {target:>12s} {error:>8s}  {mark}")
    hit = int(kpis["within"].sum())
    scored = int(kpis["target"].notna().sum())
    within20 = int((kpis["rel_error"].abs() <= 0.20).sum())
    lines.append(f"\n{hit}/{scored} KPIs within their calibration tolerance; {within20}/{scored} within ±20%.")
    return "\n".join(lines)
