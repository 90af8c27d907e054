"""`simsales calibrate`: fit the free parameters to the 2023 targets and write fit, ensemble and report."""

from __future__ import annotations

import argparse
import os
import time
from datetime import UTC, datetime
from pathlib import Path

from simsales.calibration.api import DEFAULT_BUDGET
from simsales.commands.checks import (
    check_memory,
    connect_executor,
    consumer_count,
    nonneg_int,
    positive_int,
    shipped_or_out,
    writable_folder,
)

#: Where a calibration writes unless told otherwise (relative to the working directory).
DEFAULT_OUT = Path("out") / "calibration"


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `calibrate` subcommand."""
    p = sub.add_parser(
        "calibrate",
        help="calibrate the baseline to the 2023 targets (resumes from its checkpoint)",
        description="Search the free parameters (calibration/parameters_2023.toml) so the baseline meets the 2023 "
        "targets; write fitted_2023.toml, ensemble_2023.parquet, report.md and figures/ into out/calibration/ "
        "(the shipped fit in calibration/ is replaced only with --update-shipped).  An interrupted run "
        "resumes from its checkpoint when started again with the same options.",
    )
    p.add_argument("--budget", type=positive_int, default=DEFAULT_BUDGET, help=f"candidate parameter sets to evaluate (default {DEFAULT_BUDGET})")
    p.add_argument("--jobs", type=positive_int, default=min(os.cpu_count() or 1, 2), help="parallel simulations (default: 2 or the CPU count)")
    p.add_argument("--scheduler", default=None, help="Dask scheduler address, e.g. tcp://host:8786 (needs the dask extra; replaces --jobs)")
    p.add_argument("--holdout", default="", help="comma-separated target ids left out of the fit and reported as predictions")
    p.add_argument("--seeds", type=positive_int, default=3, help="common seeds per candidate in the search (default 3)")
    p.add_argument("--consumers", type=consumer_count, default=None, help="consumers per search run (default: the scenario's, 200,000)")
    p.add_argument("--report-seeds", type=positive_int, default=10, help="seeds of the final check at default size (default 10)")
    p.add_argument("--sensitivity-seeds", type=nonneg_int, default=1, help="seeds for the finite-difference identification (0: skip)")
    p.add_argument("--select", type=positive_int, default=4, help="best candidates re-run on fresh seeds before choosing the fit (default 4)")
    p.add_argument("--no-polish", action="store_true",
                   help="skip the polish step (a step on the local linear model at the fit, kept only if it meets more targets on the search and selection seeds)")
    p.add_argument("--explore", type=positive_int, default=None, help="candidates in the exploration stage (default: a third of the budget)")
    p.add_argument("--batch", type=positive_int, default=8, help="candidates per refinement batch (default 8)")
    p.add_argument("--explorer", default="sobol", choices=("sobol", "lhs"), help="exploration sampler")
    p.add_argument("--refiner", default="surrogate", choices=("surrogate", "local"), help="refinement sampler")
    p.add_argument("--loss", default="huber", choices=("huber", "quadratic"), help="loss of tolerance-scaled residuals")
    p.add_argument("--scenario", default=None, help="scenario file (default: shipped 2023 baseline, read without its fit)")
    p.add_argument("--parameters", default=None, help="free-parameter file (default: calibration/parameters_2023.toml)")
    p.add_argument("--targets", default=None, help="targets file (default: calibration/targets_2023.toml)")
    p.add_argument("--out", type=Path, default=None, help=f"output folder (default: {DEFAULT_OUT}/, or {DEFAULT_OUT}/holdout/ with --holdout)")
    p.add_argument(
        "--update-shipped", action="store_true",
        help="write the fit into the shipped calibration/ folder (replacing fitted_2023.toml, the ensemble, report and "
        "figures that every run uses); without it the shipped files are never touched",
    )  # fmt: skip
    p.add_argument("--checkpoint", type=Path, default=None, help="checkpoint folder (default: <out>/checkpoint)")
    p.add_argument("--seed", type=nonneg_int, default=0, help="seed of the samplers (default 0)")
    p.add_argument("--stop-after", type=int, default=None, help=argparse.SUPPRESS)
    p.set_defaults(func=execute)


def execute(args: argparse.Namespace) -> int:
    """Run or resume the calibration, then write its outputs."""
    from simsales.calibration import CalibrationInterrupted, build_setup, calibrate, target_table, write_outputs

    started = time.perf_counter()
    started_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    holdout = tuple(h.strip() for h in args.holdout.split(",") if h.strip())
    out = output_folder(args.out, args.update_shipped, holdout)
    checkpoint = args.checkpoint if args.checkpoint is not None else Path(out) / "checkpoint"
    writable_folder(out, "--out")
    writable_folder(checkpoint, "--checkpoint")
    setup = build_setup(
        scenario=args.scenario, parameters=args.parameters, targets=args.targets, holdout=holdout,
        seeds=tuple(range(1, args.seeds + 1)), n_consumers=args.consumers, budget=args.budget,
        explore=args.explore, batch=args.batch, explorer=args.explorer, refiner=args.refiner, loss=args.loss, seed=args.seed,
    )
    report_seeds = tuple(range(1001, 1001 + args.report_seeds))
    from simsales.scenario import load_scenario

    sizes = load_scenario().run
    executor = connect_executor(args.jobs, args.scheduler)
    try:
        check_memory(max(setup.n_consumers, sizes.n_consumers), sizes.days + sizes.warmup_days,
                     executor.workers if args.scheduler is None else 1, ("--consumers", "--scenario"))
        where = f"Dask scheduler {args.scheduler} ({executor.workers} workers)" if args.scheduler else f"{executor.workers} jobs"
        print(f"calibrating {setup.space.dim} parameters to {len(setup.fit_targets)} targets "
              f"({len(setup.held_targets)} held out): {setup.plan.budget} candidates x {len(setup.seeds)} seeds "
              f"at {setup.n_consumers:,} consumers, {where}; checkpoint {checkpoint}")
        calib = calibrate(setup, checkpoint, executor=executor, report_seeds=report_seeds,
                          sensitivity_seeds=args.sensitivity_seeds, select=args.select, polish=not args.no_polish,
                          stop_after=args.stop_after,
                          progress=True)
    except CalibrationInterrupted as exc:
        print(f"interrupted: {exc}; run the same command again to resume")
        return 3
    finally:
        executor.close()
    wall = (time.perf_counter() - started) / 60
    if calib.store is not None:
        calib.store.log_invocation({"started": started_at, "minutes": round(wall, 2), "new_runs": calib.timings.get("new_runs", 0),
                                    "jobs": args.jobs, "command": "simsales calibrate" + _options(args)})
    meta = {
        "command": "simsales calibrate" + _options(args),
        "jobs": args.jobs,
        "wall_minutes": wall,
        "new_runs": calib.timings.get("new_runs", 0),
        "scenario": args.scenario or "experiments/baseline_2023.toml",
        "parameters": args.parameters or "calibration/parameters_2023.toml",
        "targets": args.targets or "calibration/targets_2023.toml",
        "checkpoint": str(checkpoint),
        "sensitivity_seeds": args.sensitivity_seeds,
    }
    paths = write_outputs(calib, out, meta)
    table = target_table(calib)
    print(f"\n{int(table['within'].sum())}/{len(table)} targets within tolerance over {len(report_seeds)} seeds "
          f"at {calib.report_n:,} consumers; fitted candidate {calib.result.best}; "
          f"{wall:.1f} min")
    for key, path in paths.items():
        print(f"wrote {path}  ({key})")
    return 0


def output_folder(out: Path | None, update_shipped: bool, holdout: tuple[str, ...] = ()) -> Path:
    """Where the fit is written: --out, else out/calibration/ (holdout/ below it); the shipped calibration/
    folder only with --update-shipped, and never by naming it in --out without that flag."""
    default = DEFAULT_OUT / "holdout" if holdout else DEFAULT_OUT
    return shipped_or_out(out, update_shipped, default, "fit", "holdout" if holdout else "")


def _options(args: argparse.Namespace) -> str:
    parts = []
    for name in ("budget", "explore", "jobs", "holdout", "seeds", "consumers", "report_seeds", "sensitivity_seeds"):
        value = getattr(args, name, None)
        if value not in (None, ""):
            parts.append(f" --{name.replace('_', '-')} {value}")
    if getattr(args, "no_polish", False):
        parts.append(" --no-polish")
    if getattr(args, "update_shipped", False):
        parts.append(" --update-shipped")
    return "".join(parts)
