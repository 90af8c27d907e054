"""The monthly shape of car sales: 2023 actuals, the model's monthly deliveries against them, and
the fit of the seasonal purchase profile (`population.seasonal_purchase`).

Why: real monthly sales swing by almost a factor of two within 2023 (the Spring Festival in
January and February, the year-end rush in December).  Month-level stock coefficients and
risk-rule triggers only mean something if the model's months have that shape.  The profile is
an input multiplying, by calendar month, the odds that a consumer deciding in a store buys
rather than waits (those who wait come back, switch store or defer): the Spring Festival
postpones purchases, the year-end brings them forward.  It acts on the decision rather than
on market entry because a purchase follows its entry by 81 days on average with a wide
spread, which would smear a monthly entry profile over a quarter; deliveries follow a
decision by days.  It is fitted by a damped fixed point on the monthly delivery shape
(`fit_seasonal_profile`, `python -m simsales.seasonality`).
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simsales._paths import default_file
from simsales.scenario.loader import read_toml
from simsales.scenario.schema import MONTHS

#: The shipped 2023 monthly actuals (CAAM), million units per month.
ACTUALS_FILE = "calibration/monthly_2023.toml"


def monthly_actuals(path: str | Path | None = None) -> pd.Series:
    """2023 sales by calendar month in million units, indexed by month start."""
    data = read_toml(path if path is not None else default_file(ACTUALS_FILE))
    sales = data["sales"]
    index = pd.date_range("2023-01-01", periods=12, freq="MS", name="month")
    return pd.Series([float(sales[m]) for m in MONTHS], index=index, name="actual_million")


def daily_rate_index(values: Sequence[float], year: int = 2023) -> np.ndarray:
    """Per-day rate of each month relative to the year's mean per-day rate (1 = average month)."""
    days = np.array([calendar.monthrange(year, m)[1] for m in range(1, 13)], dtype=float)
    rate = np.asarray(values, dtype=float) / days
    return rate / (rate * days).sum() * days.sum()


def monthly_shape(monthly: pd.DataFrame, year: int = 2023, actuals: pd.Series | None = None) -> pd.DataFrame:
    """Simulated deliveries per month (real units, from a `RunResult.monthly` table) against the actuals.

    Columns: month, simulated_million, actual_million, simulated_index, actual_index (per-day
    rate relative to the year's mean, so months of different length compare), and
    index_error (simulated minus actual index).  Needs all twelve months of `year`.
    """
    actuals = monthly_actuals() if actuals is None else actuals
    rows = monthly[pd.to_datetime(monthly["month"]).dt.year == year]
    if len(rows) != 12 or (rows["days"] < pd.to_datetime(rows["month"]).dt.days_in_month).any():
        raise ValueError(f"monthly_shape needs every day of {year} recorded")
    simulated = rows["deliveries"].to_numpy(dtype=float) / 1e6
    out = pd.DataFrame(
        {
            "month": pd.to_datetime(rows["month"]).to_numpy(),
            "simulated_million": simulated,
            "actual_million": actuals.to_numpy(),
            "simulated_index": daily_rate_index(simulated, year),
            "actual_index": daily_rate_index(actuals.to_numpy(), year),
        }
    )
    out["index_error"] = out["simulated_index"] - out["actual_index"]
    return out


def fit_seasonal_profile(
    profile: dict[str, float],
    run_monthly: Callable[[dict[str, float]], pd.DataFrame],
    iterations: int = 3,
    damping: float = 0.5,
) -> tuple[dict[str, float], list[float]]:
    """Fixed-point fit of the purchase-odds profile to the 2023 monthly delivery shape.

    `run_monthly(profile)` runs the 2023 baseline with that profile and returns its monthly
    table.  Each iteration multiplies month m's factor by the geometric mean of actual /
    simulated index of months m and m + 1 (a decision is delivered from stock within days or
    after a factory order weeks later), to the power `damping`, then divides by
    the day-weighted mean so the year's volume stays near where the calibration put it.
    Returns the profile and the root-mean-square index error of each iteration's run.
    """
    low, high = 0.2, 3.0  # the schema's range for population.seasonal_purchase
    days = np.array([calendar.monthrange(2023, m)[1] for m in range(1, 13)], dtype=float)
    factors = np.array([profile[m] for m in MONTHS], dtype=float)
    errors = []
    for _ in range(iterations):
        shape = monthly_shape(run_monthly(dict(zip(MONTHS, factors.tolist(), strict=True))))
        errors.append(rms_index_error(shape))
        ratio = (shape["actual_index"] / shape["simulated_index"]).to_numpy()
        # a decision in month m is delivered in m (from stock) or m + 1 (factory order)
        factors = factors * np.sqrt(ratio * np.roll(ratio, -1)) ** damping
        factors = np.clip(factors / ((factors * days).sum() / days.sum()), low, high)
    return dict(zip(MONTHS, np.round(factors, 3).tolist(), strict=True)), errors


def seed_mean_monthly(
    scenario: Any = None,
    *,
    params: Mapping[str, Any] | None = None,
    n_consumers: int | None = None,
    seeds: Sequence[int] = (1, 2),
    jobs: int = 1,
) -> pd.DataFrame:
    """Seed-mean monthly table (real units) of a scenario (default: the shipped baseline with its fit),
    one run per seed, `jobs` processes."""
    from joblib import Parallel, delayed

    from simsales.run import run

    def one(seed: int) -> pd.DataFrame:
        return run(scenario, seed=seed, n_consumers=n_consumers, params=dict(params or {})).monthly

    frames = Parallel(n_jobs=max(1, min(len(seeds), jobs)))(delayed(one)(s) for s in seeds)
    return pd.concat(frames).groupby("month", as_index=False).mean(numeric_only=True)


def _run_monthly(profile: dict[str, float], n_consumers: int, seeds: Sequence[int]) -> pd.DataFrame:
    """Seed-mean monthly table (real units) of the 2023 baseline with this purchase profile."""
    return seed_mean_monthly(
        params={"population.seasonal_purchase": profile}, n_consumers=n_consumers, seeds=seeds, jobs=2
    )


def rms_index_error(shape: pd.DataFrame) -> float:
    """Root-mean-square difference of the simulated and actual monthly index (a `monthly_shape` table)."""
    return float(np.sqrt((shape["index_error"] ** 2).mean()))


#: Heading of the monthly-shape section of calibration/report.md (`shape_section`, `update_report`).
SECTION_HEADING = "## Monthly shape of 2023 sales"


def shape_section(shape: pd.DataFrame, seeds: Sequence[int], n_consumers: int, source: str) -> str:
    """The calibration report's monthly-shape section (Markdown) for a `monthly_shape` table.

    `source` says what was run and how to re-make the section, e.g. the command.
    """
    rms = rms_index_error(shape)
    worst = shape.loc[shape["index_error"].abs().idxmax()]
    flat = float(np.sqrt(((shape["actual_index"] - 1.0) ** 2).mean()))
    intro = (
        f"Deliveries per month in 2023, simulated (mean over seeds {', '.join(map(str, seeds))} at {n_consumers:,} "
        f"consumers) against the actual monthly sales in `{ACTUALS_FILE}` (CAAM).  Index: the month's per-day rate "
        "over the year's mean per-day rate (1 = an average month), so months of different length compare and the "
        f"shape is judged apart from the level (the level is `market.total_sales` above).  {source}"
    )
    rms_line = (
        f"- **Root-mean-square error of the monthly index: {rms:.3f}** (a flat year would score {flat:.3f}); "
        f"largest gap in {pd.Timestamp(worst['month']).strftime('%B')} ({worst['simulated_index']:.2f} simulated vs "
        f"{worst['actual_index']:.2f} actual)."
    )
    year = f"- Year: {shape['simulated_million'].sum():.2f} million simulated vs {shape['actual_million'].sum():.2f} million actual."
    lines = [
        SECTION_HEADING,
        "",
        intro,
        "",
        rms_line,
        year,
        "",
        "| month | actual (million) | simulated (million) | actual index | simulated index | error |",
        "|---|---|---|---|---|---|",
    ]
    for _, r in shape.iterrows():
        lines.append(
            f"| {pd.Timestamp(r['month']).strftime('%b')} | {r['actual_million']:.3f} | {r['simulated_million']:.3f} | "
            f"{r['actual_index']:.2f} | {r['simulated_index']:.2f} | {r['index_error']:+.2f} |"
        )
    return "\n".join(lines) + "\n"


def update_report(report: str, section: str) -> str:
    """`report` (Markdown) with its monthly-shape section replaced by `section`, or inserted before `## Figures`
    (at the end if there is none)."""
    lines = report.splitlines(keepends=True)
    heads = [i for i, line in enumerate(lines) if line.startswith("## ")]
    own = [i for i in heads if lines[i].rstrip("\n") == SECTION_HEADING]
    block = section if section.endswith("\n\n") else section.rstrip("\n") + "\n\n"
    if own:
        start = own[0]
        end = next((i for i in heads if i > start), len(lines))
        return "".join(lines[:start]) + block + "".join(lines[end:])
    figures = next((i for i in heads if lines[i].rstrip("\n") == "## Figures"), len(lines))
    return "".join(lines[:figures]) + block + "".join(lines[figures:])


def shipped_fit_section(jobs: int = 1, seeds: Sequence[int] | None = None, n_consumers: int | None = None) -> str:
    """The monthly-shape section for the shipped baseline and fit, on the report's seeds and size as recorded in
    the shipped `fitted_2023.toml` ([calibration] report_seeds, report_n_consumers) unless given."""
    from simsales.calibration import load_fitted
    from simsales.calibration.api import DEFAULT_REPORT_SEEDS
    from simsales.scenario import load_scenario

    meta = load_fitted().get("calibration", {})
    seeds = list(seeds if seeds is not None else meta.get("report_seeds", DEFAULT_REPORT_SEEDS))
    n = int(n_consumers or meta.get("report_n_consumers") or load_scenario().run.n_consumers)
    shape = monthly_shape(seed_mean_monthly(n_consumers=n, seeds=seeds, jobs=jobs))
    return shape_section(
        shape, seeds, n,
        "Re-made on the shipped baseline and fit by `python -m simsales.seasonality --report calibration/report.md`.",
    )


def main(argv: Sequence[str] | None = None) -> None:
    """`python -m simsales.seasonality`: fit the purchase profile and print it as TOML for population_2023.toml;
    with `--report FILE`, instead write the shipped fit's monthly-shape section into that calibration report."""
    import argparse

    from simsales.scenario import load_scenario

    p = argparse.ArgumentParser(description=main.__doc__)
    p.add_argument("--consumers", type=int, default=None, help="model size (default: 100,000 to fit; the report's size)")
    p.add_argument("--seeds", type=int, default=None, help="number of seeds (default: 2 to fit; the report's seeds)")
    p.add_argument("--iterations", type=int, default=5)
    p.add_argument("--report", metavar="FILE", help="update the monthly-shape section of this report.md")
    p.add_argument("--jobs", type=int, default=2)
    args = p.parse_args(argv)
    if args.report:
        path = Path(args.report)
        if not path.is_file():
            p.error(f"--report: no such file: {path}")
        from simsales.calibration.api import DEFAULT_REPORT_SEEDS

        seeds = list(DEFAULT_REPORT_SEEDS[: args.seeds]) if args.seeds else None
        section = shipped_fit_section(args.jobs, seeds, args.consumers)
        path.write_text(update_report(path.read_text(encoding="utf-8"), section), encoding="utf-8")
        print(section)
        return
    n_consumers = args.consumers or 100_000
    seeds = list(range(1, (args.seeds or 2) + 1))
    start = dict(load_scenario().population.seasonal_purchase)
    profile, errors = fit_seasonal_profile(start, lambda prof: _run_monthly(prof, n_consumers, seeds), args.iterations)
    final = monthly_shape(_run_monthly(profile, n_consumers, seeds))
    errors.append(rms_index_error(final))
    print("rms error of the monthly index, start then each iteration:", ", ".join(f"{e:.3f}" for e in errors))
    print(final.to_string(index=False, float_format="%.3f"))
    print("seasonal_purchase = { " + ", ".join(f"{m} = {v:g}" for m, v in profile.items()) + " }")


if __name__ == "__main__":
    main()
