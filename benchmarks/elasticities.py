"""Measure the model's price elasticities with paired replicates and print them.

    .venv/bin/python benchmarks/elasticities.py [--consumers 100000] [--replicates 2] [--jobs 2] [--out elasticities.csv]

Arms and method: see `simsales.responses`.  Literature for comparison: aggregate car demand
-0.8 to -1.5; model level -3 to -6.5; China brand level about -3.
"""

from __future__ import annotations

import argparse
import time

from simsales.responses import measure_elasticities


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default=None, help="scenario TOML (default: the 2023 baseline)")
    parser.add_argument("--consumers", type=int, default=100_000, help="consumer agents per run (default 100000: a 5%% cut of one product must stand out of seed noise)")
    parser.add_argument("--replicates", type=int, default=2, help="paired replicates (default 2)")
    parser.add_argument("--jobs", type=int, default=2, help="parallel simulations (default 2; the figures do not depend on it)")
    parser.add_argument("--out", default=None, help="CSV file for the table")
    args = parser.parse_args()
    if args.consumers <= 0 or args.replicates <= 0 or args.jobs <= 0:
        parser.error("--consumers, --replicates and --jobs must be positive")
    t0 = time.perf_counter()
    table = measure_elasticities(args.scenario, n_consumers=args.consumers, replicates=args.replicates, jobs=args.jobs)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    print(f"\n{args.replicates} paired replicates x {args.consumers} consumers; {time.perf_counter() - t0:.0f} s")
    if args.out:
        table.to_csv(args.out, index=False)


if __name__ == "__main__":
    main()
