"""`simsales responses`: the response report of every shipped shock, strategy and risk plan, and the plan's claims."""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from simsales.commands.checks import (
    InputError,
    check_memory,
    consumer_count,
    positive_int,
    shipped_or_out,
    writable_folder,
)

#: Where the report is written unless told otherwise (relative to the working directory).
DEFAULT_OUT = Path("out") / "responses"
#: Default size: fast enough for minutes on two cores, large enough for the main effects.
DEFAULT_CONSUMERS = 20_000
ELASTICITY_CONSUMERS = 100_000
DEFAULT_REPLICATES = 5


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `responses` subcommand."""
    p = sub.add_parser(
        "responses",
        help="response report: paired effects of every shock, strategy and risk plan, and the plan's claims",
        description="Run every shipped experiments/shock_*, strategy_* and riskplan_* file against the same scenario "
        "without its events (paired replicates), judge each effect against calibration/responses_2023.toml, compare "
        "the plan's claims and targets, and write responses.md with figures into out/responses/ (the shipped "
        "calibration/responses.md is replaced only with --update-shipped).  Finished runs are kept in <out>/runs/ "
        "(out/responses/runs/ with --update-shipped), so an interrupted report resumes when started again.",
    )
    p.add_argument("--replicates", type=positive_int, default=DEFAULT_REPLICATES, help=f"paired replicates per arm (default {DEFAULT_REPLICATES})")
    p.add_argument("--jobs", type=positive_int, default=min(os.cpu_count() or 1, 2), help="parallel simulations (default: 2 or the CPU count)")
    p.add_argument("--consumers", type=consumer_count, default=DEFAULT_CONSUMERS, help=f"consumers per run (default {DEFAULT_CONSUMERS:,})")
    p.add_argument(
        "--elasticity-consumers",
        type=consumer_count,
        default=ELASTICITY_CONSUMERS,
        help=f"consumers per run of the price elasticities, part (a) (default {ELASTICITY_CONSUMERS:,}: a 5%% cut of one product needs it to stand out of seed noise)",
    )
    p.add_argument("--out", type=Path, default=None, help=f"output folder (default: {DEFAULT_OUT}/)")
    p.add_argument("--update-shipped", action="store_true", help="write calibration/responses.md and its figure (the shipped report); without it they are never touched")
    p.add_argument("--files", default="", help="comma-separated file names to report (default: every shipped shock, strategy and risk plan)")
    p.add_argument("--expectations", type=Path, default=None, help="expectation file (default: calibration/responses_2023.toml)")
    p.add_argument("--no-elasticities", action="store_true", help="skip part (a), the price elasticities (about 16 x replicates extra runs)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=execute)


def output_folder(out: Path | None, update_shipped: bool) -> Path:
    """--out, else out/responses/; the shipped calibration/ folder only with --update-shipped."""
    return shipped_or_out(out, update_shipped, DEFAULT_OUT, "report")


def execute(args: argparse.Namespace) -> int:
    """Check every input, run the paired experiments, write the report."""
    from simsales import response_report as rr
    started = time.perf_counter()
    out = output_folder(args.out, args.update_shipped)
    if args.expectations is not None and not Path(args.expectations).is_file():
        raise InputError(f"--expectations {args.expectations}: no such file")
    expect = rr.load_expectations(args.expectations)
    shipped = rr.shipped_files()
    names = [n.strip().removesuffix(".toml") for n in args.files.split(",") if n.strip()] or shipped
    unknown = [n for n in names if n not in shipped]
    if unknown:
        raise InputError(f"--files: not a shipped shock, strategy or risk-plan file: {', '.join(unknown)}")
    missing = [n for n in names if n not in expect.baselines]
    if missing:
        raise InputError(f"--expectations: no [files.NAME] table for {', '.join(missing)}")
    if args.update_shipped and args.no_elasticities:
        raise InputError("--update-shipped writes the shipped report, which includes the elasticities; do not combine it with --no-elasticities")
    if args.update_shipped and names != shipped:
        raise InputError("--update-shipped writes the shipped report, which covers every file; do not combine it with --files")
    size = {"run.n_consumers": args.consumers}
    groups = rr.plan_groups(expect, names, size)  # every scenario loaded and validated before any run
    longest = max(s.run.days + s.run.warmup_days for g in groups for s in g.arms.values())
    largest = max(s.run.n_consumers for g in groups for s in g.arms.values())
    note = check_memory(largest, longest, args.jobs, ("--consumers", "--jobs"))
    sizes = {n: rr.file_size(expect, n, size)["run.n_consumers"] for n in names}
    larger = {n: v for n, v in sizes.items() if v > args.consumers}  # files run above --consumers, as their tables ask
    writable_folder(out, "--out")
    store = writable_folder((DEFAULT_OUT if args.update_shipped else out) / "runs", "--out")  # finished runs: a re-run resumes
    if note:
        print(note)
    runs = sum(len(g.arms) for g in groups) * args.replicates
    print(f"responses: {len(names)} files in {len(groups)} experiments, {runs} runs at {args.consumers:,} consumers"
          + "".join(f", {n} at {v:,}" for n, v in larger.items()) + f", {args.jobs} jobs")
    kpis = rr.required_kpis(expect, names)
    effects = rr.measure(groups, kpis, args.replicates, args.jobs, progress=not args.quiet, store=store)
    elasticities = None
    if not args.no_elasticities:
        from simsales.responses import against_literature, measure_elasticities

        print(f"elasticities: price cuts at {args.elasticity_consumers:,} consumers, {max(args.replicates, 2)} paired replicates")
        elasticities = against_literature(
            measure_elasticities(n_consumers=args.elasticity_consumers, replicates=max(args.replicates, 2), jobs=args.jobs)
        )
    responses = rr.response_table(expect, effects)
    claims = rr.claim_table(expect, effects, names)
    wall = (time.perf_counter() - started) / 60
    command = "simsales responses" + "".join(
        f" --{k.replace('_', '-')} {v}" for k, v in (("replicates", args.replicates), ("jobs", args.jobs), ("consumers", args.consumers),
                                                     ("elasticity_consumers", args.elasticity_consumers)))
    if args.files:
        command += f" --files {args.files}"
    if args.update_shipped:
        command += " --update-shipped"
    meta = {"command": command, "wall_minutes": wall, "jobs": args.jobs, "consumers": args.consumers, "elasticity_consumers": args.elasticity_consumers,
            "larger": larger, "replicates": args.replicates, "run_minutes": effects.attrs.get("run_seconds", 0.0) / 60, "expectations": str(args.expectations or rr.EXPECTATIONS)}  # fmt: skip
    path = rr.write_report(out, responses, claims, meta, elasticities=elasticities)
    counts = responses["verdict"].value_counts().to_dict() if len(responses) else {}
    ccounts = claims["verdict"].value_counts().to_dict() if len(claims) else {}
    print(f"\nresponses: {counts}\nclaims: {ccounts}\n{wall:.1f} min\nwrote {path}")
    return 0
