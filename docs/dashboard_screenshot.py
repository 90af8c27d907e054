"""Re-make docs/dashboard.png: serve the dashboard, run a scenario through the page in Chromium, screenshot it.

    .venv/bin/python docs/dashboard_screenshot.py [--consumers 10000 --replicates 4]

Needs the `test` and `viz` extras and /usr/bin/chromium (see README, Dashboard).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from simsales.dashboard.browser import fill_and_run, launch, serve

OUT = Path(__file__).resolve().parent / "dashboard.png"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kind", default="shock")
    parser.add_argument("--scenario", default="shock_demand_drop")
    parser.add_argument("--consumers", type=int, default=10_000)
    parser.add_argument("--replicates", type=int, default=4)
    parser.add_argument("--seed", type=int, default=2023)
    parser.add_argument("--height", type=int, default=2250, help="browser window height in pixels (the whole page)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    start = time.perf_counter()
    with serve() as url, sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": args.height})
            fill_and_run(
                page, url, kind=args.kind, scenario=args.scenario, timeout=1800,
                n_consumers=args.consumers, replicates=args.replicates, root_seed=args.seed,
            )  # fmt: skip
            page.wait_for_timeout(1500)
            page.screenshot(path=str(args.out))
        finally:
            browser.close()
    print(f"wrote {args.out} in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
