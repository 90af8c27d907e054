"""`simsales experiment FILE`: run (or resume) an experiment spec, print its headline results, write its report."""

from __future__ import annotations

import argparse
from pathlib import Path

from simsales.commands.checks import (
    InputError,
    check_memory,
    connect_executor,
    consumer_count,
    day_count,
    positive_int,
    warmup_day_count,
    writable_folder,
)
from simsales.experiments import ExperimentResult, load_experiment, plan, run_experiment
from simsales.experiments.report import late_event_warnings, markdown_table, with_units
from simsales.runs import Executor


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `experiment` subcommand."""
    p = sub.add_parser("experiment", help="run an experiment spec (experiments/exp_*.toml): arms x replicates")
    p.add_argument("spec", help="experiment spec TOML (a path, or the name of a shipped one such as exp_strategies)")
    p.add_argument("--out", type=Path, default=None, help="results directory (default: out/<name>); re-running resumes")
    p.add_argument("--workers", type=positive_int, default=None, help="local worker processes (default: all cores; 1 = this process)")
    p.add_argument("--scheduler", default=None, help="Dask scheduler address, e.g. tcp://host:8786 (needs the dask extra)")
    p.add_argument("--smoke", action="store_true", help="reduced size from the spec's [smoke] table (what CI runs)")
    p.add_argument("--replicates", type=positive_int, default=None, help="override the number of replicates")
    p.add_argument("--max-replicates", type=positive_int, default=None, help="cap on adaptive replicates (= --replicates: no adaptive growth)")
    p.add_argument("--consumers", type=consumer_count, default=None, help="override n_consumers of every arm")
    p.add_argument("--days", type=day_count, default=None, help="override recorded days of every arm")
    p.add_argument("--warmup-days", type=warmup_day_count, default=None, help="override warm-up days of every arm")
    p.add_argument(
        "--no-warm-start",
        action="store_true",
        help="simulate every arm from day 0 instead of sharing each replicate's warm-up up to the first event (same numbers, slower)",
    )
    p.add_argument("--no-retry", action="store_true", help="keep runs that failed before as failed instead of retrying them")
    p.add_argument("--no-report", action="store_true", help="skip report.md and the plots")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=execute)


def run_from_args(args: argparse.Namespace) -> ExperimentResult:
    """Load, size and run the experiment the arguments describe (the object the Python API would return)."""
    experiment = load_experiment(args.spec, smoke=args.smoke).with_size(
        replicates=args.replicates,
        n_consumers=args.consumers,
        days=args.days,
        warmup_days=args.warmup_days,
        max_replicates=args.max_replicates,
    )
    out = args.out if args.out is not None else Path("out") / (experiment.name + ("-smoke" if args.smoke else ""))
    writable_folder(out, "--out")
    tasks = plan(experiment)  # every arm validated before a worker or a run starts
    executor = executor_from_args(args)
    try:
        largest = max((t.scenario.run.n_consumers, t.scenario.run.days + t.scenario.run.warmup_days) for t in tasks)
        note = check_memory(largest[0], largest[1], min(executor.workers, len(tasks)), ("--consumers", "--days"))
    except InputError:
        executor.close()
        raise
    if note:
        print(note)
    for warning in late_event_warnings(experiment):
        print(warning)
    return run_experiment(experiment, out=out, executor=executor, progress=not args.quiet, retry_failed=not args.no_retry,
                          warm_start=not args.no_warm_start)


def executor_from_args(args: argparse.Namespace) -> Executor:
    """Local workers, or a Dask client connected now, so an unreachable --scheduler is refused before any run."""
    return connect_executor(args.workers, args.scheduler)


def execute(args: argparse.Namespace) -> int:
    """Run, print headline results, write the report; exit code 1 if any run failed, 2 on bad input."""
    result = run_from_args(args)  # input and store errors are printed by simsales.cli.main (exit code 2)
    exp = result.experiment
    print(f"\n{exp.name}: {len(result.runs)} runs in {result.folder}")
    if exp.sensitivity is not None:
        indices = result.sensitivity_indices()
        print("\nparameter ranking:\n" + markdown_table(exp.sensitivity.ranking(indices)))
    elif len(exp.arms) > 1:
        diffs = with_units(result.differences())
        cols = ["arm", "kpi", "unit", "n", "diff", "ci_low", "ci_high", "rel_diff"]
        print("\npaired differences to the baseline (95% CI; rel_diff blank where the baseline is near zero):\n"
              + markdown_table(diffs[cols]))
    else:
        print(markdown_table(result.summary()))
    if exp.thresholds:
        print("\nbreach probabilities:\n" + markdown_table(result.breach_probabilities()))
    if not args.no_report and result.folder is not None:
        print(f"\nreport: {result.report()}")
    failed = result.failures()
    if len(failed):
        print(f"\n{len(failed)} runs failed (see manifest.json); re-run the same command to retry them")
        return 1
    return 0
