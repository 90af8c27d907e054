"""Benchmark of experiment throughput: runs per minute with 1 and 2 local workers, and the scaling efficiency.

A run is the shipped 2023 baseline at its default size (200 000 consumers, 180 warm-up days and
a recorded year) unless --consumers/--days say otherwise.  Each configuration runs the same
experiment (one arm, --runs replicates) into a fresh in-memory store after a warm-up that starts
the worker pool, so pool start-up is not counted.  NumPy, BLAS and OpenMP run single-threaded
(set below before anything imports NumPy; joblib workers get the same limits), so two workers
use two cores without oversubscribing them.  The load average before and after is printed
because other processes on a shared machine slow the parallel case most.

    python benchmarks/bench_experiments.py                  # 8 runs per configuration, 1 and 2 workers
    python benchmarks/bench_experiments.py --runs 4 --consumers 50000 --json out.json
    python benchmarks/bench_experiments.py --warm-start exp_strategies --replicates 2   # warm vs cold

Not a test: timings depend on the machine and its load.  Target: >= 1.7x from 1 to 2 workers.
"""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS"):
    os.environ.setdefault(_name, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime  # noqa: E402

TARGET_EFFICIENCY = 1.7


def experiment(runs: int, consumers: int | None, days: int | None, name: str = "bench"):
    """One baseline arm x `runs` replicates."""
    from simsales.experiments import Arm, Experiment

    return Experiment(name, arms=(Arm("baseline"),), replicates=runs, n_consumers=consumers, days=days, root_seed=99)


def measure(workers: int, runs: int, consumers: int | None, days: int | None) -> dict:
    """Time `runs` runs on `workers` local worker processes (after a small warm-up on the same pool).

    One worker is a worker process too (not the main process), so both cases pay the same costs.
    """
    from simsales.experiments import JoblibExecutor, run_experiment

    pool = JoblibExecutor(workers, processes_for_one=True)
    run_experiment(experiment(workers, 5_000, 30, "warmup"), executor=pool, progress=False)
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    result = run_experiment(experiment(runs, consumers, days), executor=pool, progress=False)
    wall = time.perf_counter() - t0
    done = int((result.runs["status"] == "done").sum())
    return {
        "workers": workers,
        "runs": done,
        "failed": runs - done,
        "wall_s": round(wall, 2),
        "runs_per_min": round(done / wall * 60, 2),
        "mean_run_s": round(float(result.runs["seconds"].mean()), 2),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
    }


def warm_versus_cold(spec: str, replicates: int, consumers: int | None, workers: int) -> dict:
    """Time one experiment spec with and without shared warm-ups (same workers) and check the numbers agree."""
    import dataclasses
    import tempfile

    import pandas as pd

    from simsales.experiments import load_experiment, run_experiment

    exp = load_experiment(spec)
    exp = dataclasses.replace(exp, replicates=replicates, adaptive=None, **({"n_consumers": consumers} if consumers else {}))
    times, tables = {}, {}
    for mode, warm in (("cold", False), ("warm", True)):
        with tempfile.TemporaryDirectory() as folder:
            t0 = time.perf_counter()
            result = run_experiment(exp, out=folder, workers=workers, progress=False, warm_start=warm)
            times[mode] = time.perf_counter() - t0
            tables[mode] = result.monthly
    pd.testing.assert_frame_equal(tables["warm"], tables["cold"])
    row = {"spec": spec, "arms": len(exp.arms), "replicates": replicates, "consumers": exp.n_consumers, "workers": workers,
           "cold_s": round(times["cold"], 1), "warm_s": round(times["warm"], 1), "speedup": round(times["cold"] / times["warm"], 2)}
    print(f"{spec}: {row['arms']} arms x {replicates} replicates, {row['consumers'] or 'scenario'} consumers, {workers} workers: "
          f"cold {row['cold_s']} s, warm {row['warm_s']} s, {row['speedup']}x faster with warm starts (identical monthly tables)")
    return row


def main() -> None:
    """Run both configurations and print a table (optionally JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=8, help="runs per configuration (default 8)")
    parser.add_argument("--consumers", type=int, default=None, help="consumers per run (default: scenario's 200 000)")
    parser.add_argument("--days", type=int, default=None, help="recorded days (default: scenario's 365)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts to compare (default 1 2)")
    parser.add_argument("--json", default=None, help="also write the figures to this JSON file")
    parser.add_argument("--warm-start", metavar="SPEC", default=None, help="instead: time SPEC (e.g. exp_strategies) warm vs cold")
    parser.add_argument("--replicates", type=int, default=2, help="replicates for --warm-start (default 2)")
    args = parser.parse_args()
    if args.warm_start:
        row = warm_versus_cold(args.warm_start, args.replicates, args.consumers, max(args.workers))
        if args.json:
            with open(args.json, "w") as fh:
                json.dump(row, fh, indent=1)
        return
    rows = [measure(w, args.runs, args.consumers, args.days) for w in args.workers]
    base = rows[0]["runs_per_min"]
    for row in rows:
        row["speedup"] = round(row["runs_per_min"] / base, 3) if base else None
        row["efficiency"] = round(row["speedup"] / (row["workers"] / rows[0]["workers"]), 3) if base else None
    print(f"experiment throughput, {platform.node()} ({os.cpu_count()} cores), {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    size = f"{args.consumers or 'default (200000)'} consumers, {args.days or 'default (365)'} recorded days"
    print(f"{args.runs} runs per configuration; {size}")
    print(f"{'workers':>7} {'runs/min':>9} {'wall s':>8} {'s/run':>6} {'speedup':>8} {'efficiency':>10}  load (1/5/15 min) before -> after")
    for r in rows:
        print(
            f"{r['workers']:>7} {r['runs_per_min']:>9.2f} {r['wall_s']:>8.1f} {r['mean_run_s']:>6.2f} {r['speedup']:>8.2f}x"
            f" {r['efficiency']:>10.2f}  {r['load_before']} -> {r['load_after']}"
        )
    if len(rows) > 1:
        speedup = rows[-1]["speedup"]
        verdict = "meets" if speedup >= TARGET_EFFICIENCY else "misses"
        print(f"speed-up {rows[0]['workers']} -> {rows[-1]['workers']} workers: {speedup:.2f}x ({verdict} the {TARGET_EFFICIENCY}x target)")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"rows": rows, "args": vars(args), "cores": os.cpu_count()}, fh, indent=1)


if __name__ == "__main__":
    main()
