"""Benchmark of `MarketModel`: wall time, consumer-days per second and peak memory by population size.

Each size runs in a fresh subprocess pinned to one CPU with BLAS/OpenMP threads set to 1, so
peak resident memory (`ru_maxrss`) belongs to that run alone.  A run is the shipped 2023
baseline: the scenario's warm-up (stated in the table) and then a full recorded year of 365
days; the "year" columns time the recorded year only, "total" adds model construction and
warm-up.

    python benchmarks/bench_model.py                       # 10^4, 10^5, 10^6; writes out/bench/results.md
    python benchmarks/bench_model.py --update-tracked      # ... and replaces the tracked benchmarks/results.md
    python benchmarks/bench_model.py --sizes 10000 --no-write
    python benchmarks/bench_model.py --profile 1000000     # cProfile of one run, top 25 functions
    python benchmarks/bench_model.py --large               # adds 10^7 and 3 x 10^7 (about 10 minutes, 2.4 GB peak)

Not a test: timings depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: Where a benchmark writes by default: untracked (out/ is git-ignored), so `make bench` leaves the checkout clean.
DEFAULT_OUT = HERE.parent / "out" / "bench" / "results.md"
#: The tracked results, replaced only with --update-tracked.
TRACKED = HERE / "results.md"
SINGLE_THREAD = dict.fromkeys(("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"), "1")
TARGET_SECONDS = 30.0  # 10^6 consumers x 365 days
TARGET_MEMORY_MB = 1024.0


def _pin_to_one_cpu() -> int | None:
    """Restrict this process to one CPU (the last one it may use); returns it, or None if unsupported."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    cpu = max(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return cpu


def _rss_mb() -> float:
    """Peak resident set size of this process so far, in MB."""
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024.0 if sys.platform != "darwin" else peak / 1024.0 / 1024.0


def worker(n: int, days: int, warmup: int | None, seed: int) -> dict:
    """One timed run in this process (called in a subprocess by `measure`)."""
    cpu = _pin_to_one_cpu()
    from simsales import MarketModel  # imported after pinning so thread pools start pinned

    rss_imports = _rss_mb()
    t0 = time.perf_counter()
    model = MarketModel(n_consumers=n, days=days, warmup_days=warmup, seed=seed)
    t1 = time.perf_counter()
    while model.running and not model.recorder.recording:
        model.step()
    t2 = time.perf_counter()
    model.run_model()
    t3 = time.perf_counter()
    kpis = model.kpis()
    return {
        "n": n,
        "days": model.spec.run.days,
        "warmup": model.spec.run.warmup_days,
        "cpu": cpu,
        "build_s": t1 - t0,
        "warmup_s": t2 - t1,
        "year_s": t3 - t2,
        "total_s": t3 - t0,
        "rss_imports_mb": rss_imports,
        "peak_rss_mb": _rss_mb(),
        "dealers": int(model.network.n),
        "salespeople": int(model.salesforce.headcount()),
        "total_sales_m": kpis["market.total_sales"],
    }


def measure(n: int, days: int, warmup: int | None, seed: int) -> dict:
    """Run `worker` in a fresh single-threaded subprocess and return its figures."""
    args = [sys.executable, __file__, "--worker", str(n), "--days", str(days), "--seed", str(seed)]
    if warmup is not None:
        args += ["--warmup", str(warmup)]
    env = {**os.environ, **SINGLE_THREAD}
    proc = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark of n={n} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def table(rows: list[dict]) -> str:
    """Markdown table of the measurements."""
    head = (
        "| consumers | warm-up + recorded days | year wall time (s) | consumer-days/s (year) "
        "| total wall time (s) | consumer-days/s (total) | peak RSS (MB) | RSS after imports (MB) |\n"
        "|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    lines = [head]
    for r in rows:
        total_days = r["warmup"] + r["days"]
        lines.append(
            f"| {r['n']:,} | {r['warmup']} + {r['days']} | {r['year_s']:.2f} | {r['n'] * r['days'] / r['year_s']:,.0f} "
            f"| {r['total_s']:.2f} | {r['n'] * total_days / r['total_s']:,.0f} | {r['peak_rss_mb']:.0f} "
            f"| {r['rss_imports_mb']:.0f} |"
        )
    return "\n".join(lines)


def machine() -> str:
    """One line describing the machine, interpreter, libraries and load."""
    import mesa
    import numpy

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{cpu}, {os.cpu_count()} CPUs (run pinned to 1, BLAS threads 1), load average {load:.1f} at start; "
        f"Python {platform.python_version()}, NumPy {numpy.__version__}, Mesa {mesa.__version__}"
    )


def commit() -> str:
    """Short git commit of the checkout, marked when the library code differs from it."""
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True, text=True)
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "simsales"], cwd=HERE.parent, capture_output=True, text=True
        ).stdout.strip()
        return (out.stdout.strip() or "unknown") + (" with uncommitted changes in simsales/" if dirty else "")
    except OSError:
        return "unknown"


def verdict(rows: list[dict]) -> str:
    """Whether the 10^6 run meets the targets."""
    big = [r for r in rows if r["n"] == 1_000_000]
    if not big:
        return "No 10^6 run in this set."
    r = big[0]
    ok_time = r["year_s"] < TARGET_SECONDS
    ok_mem = r["peak_rss_mb"] < TARGET_MEMORY_MB
    return (
        f"Target for 10^6 consumers x 365 days: < {TARGET_SECONDS:.0f} s and < {TARGET_MEMORY_MB:.0f} MB. "
        f"Measured {r['year_s']:.1f} s for the recorded year ({'met' if ok_time else 'MISSED'}; "
        f"{r['total_s']:.1f} s including construction and {r['warmup']} warm-up days) and "
        f"{r['peak_rss_mb']:.0f} MB peak RSS ({'met' if ok_mem else 'MISSED'})."
    )


def write_results(rows: list[dict], path: Path, header: str) -> None:
    """results.md: how it was run, the table and the verdict."""
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = f"""# simsales benchmark

Produced by `python benchmarks/bench_model.py` (commit {commit()}, {now}).

{header}

Each size is one run of the shipped 2023 baseline in a fresh process: construction, the
scenario's warm-up, then 365 recorded days.  "year" columns time the recorded year alone;
"total" includes construction and warm-up.  Peak RSS is `ru_maxrss` of that process (it
includes about {rows[0]['rss_imports_mb']:.0f} MB of interpreter and imported libraries).

{table(rows)}

{verdict(rows)}
"""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def profile(n: int, days: int, warmup: int | None, seed: int, top: int = 25) -> str:
    """cProfile of one full run at size n: top functions by cumulative and by own time."""
    _pin_to_one_cpu()
    from simsales import MarketModel

    profiler = cProfile.Profile()
    profiler.enable()
    model = MarketModel(n_consumers=n, days=days, warmup_days=warmup, seed=seed)
    model.run_model()
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    """Command line: measure sizes in subprocesses, print and write the table; or profile one size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[1e4, 1e5, 1e6], help="consumer counts")
    parser.add_argument("--large", action="store_true", help="also 10^7 and 3 x 10^7 consumers (opt-in: minutes and gigabytes)")
    parser.add_argument("--days", type=int, default=365, help="recorded days (default 365)")
    parser.add_argument("--warmup", type=int, default=None, help="warm-up days (default: the scenario's)")
    parser.add_argument("--seed", type=int, default=2023)
    parser.add_argument("--out", type=Path, default=None, help=f"results file (default {DEFAULT_OUT.relative_to(HERE.parent)})")
    parser.add_argument(
        "--update-tracked", action="store_true", help=f"write the tracked {TRACKED.relative_to(HERE.parent)} (cannot be combined with --out)"
    )
    parser.add_argument("--no-write", action="store_true", help="print only, do not write results.md")
    parser.add_argument("--profile", type=float, default=None, metavar="N", help="profile one run of N consumers")
    parser.add_argument("--worker", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.update_tracked and args.out is not None:
        parser.error("--update-tracked writes benchmarks/results.md; do not combine it with --out")
    out = TRACKED if args.update_tracked else (args.out if args.out is not None else DEFAULT_OUT)

    if args.worker is not None:
        print(json.dumps(worker(args.worker, args.days, args.warmup, args.seed)))
        return 0
    if args.profile is not None:
        for key, value in SINGLE_THREAD.items():
            os.environ.setdefault(key, value)
        print(profile(int(args.profile), args.days, args.warmup, args.seed))
        return 0

    header = machine()
    print(header)
    rows = []
    sizes = [*args.sizes, *((1e7, 3e7) if args.large else ())]
    for size in sizes:
        n = int(size)
        print(f"running {n:,} consumers ...", flush=True)
        rows.append(measure(n, args.days, args.warmup, args.seed))
    print()
    print(table(rows))
    print()
    print(verdict(rows))
    if not args.no_write:
        write_results(rows, out, header)
        print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
