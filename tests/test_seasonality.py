"""Seasonality: the 2023 monthly actuals, the monthly-shape comparison and the purchase profile's effect."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simsales.run import run
from simsales.scenario.schema import MONTHS
from simsales.seasonality import (
    SECTION_HEADING,
    daily_rate_index,
    monthly_actuals,
    monthly_shape,
    rms_index_error,
    shape_section,
    update_report,
)

FLAT = dict.fromkeys(MONTHS, 1.0)


def test_actuals_are_2023_by_month_and_add_up_to_the_year() -> None:
    actuals = monthly_actuals()
    assert list(actuals.index.month) == list(range(1, 13))
    assert actuals.sum() == pytest.approx(30.094, rel=0.005)  # market.total_sales, CAAM
    assert actuals.idxmin().month == 1 and actuals.idxmax().month == 12  # Spring Festival trough, year-end peak
    index = daily_rate_index(actuals.to_numpy())
    days = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
    assert (index * days).sum() == pytest.approx(365.0)


def test_monthly_shape_refuses_a_partial_year() -> None:
    result = run(seed=1, n_consumers=3_000, days=120, params={"run.warmup_days": 30})
    with pytest.raises(ValueError, match="every day of 2023"):
        monthly_shape(result.monthly)


def _jan_over_oct(profile: dict[str, float], seed: int) -> float:
    # to 31 October: the months read are the same numbers as in a full-year run (checked), 61 days sooner
    result = run(seed=seed, n_consumers=30_000, days=304, params={"run.warmup_days": 120, "population.seasonal_purchase": profile})
    orders = result.monthly.set_index("month")["orders"]
    return float(orders[pd.Timestamp("2023-01-01")] / orders[pd.Timestamp("2023-10-01")])


def test_a_spring_festival_trough_moves_orders_out_of_january() -> None:
    """Paired (same seeds): odds of buying x 0.6 in January lower January's orders against October's."""
    trough = {**FLAT, "jan": 0.6}
    for seed in (1, 2):
        assert _jan_over_oct(trough, seed) < _jan_over_oct(FLAT, seed) - 0.1


def _monthly_like_a_run(bias: dict[int, float]) -> pd.DataFrame:
    """A `RunResult.monthly`-shaped table of 2023 whose deliveries are the actuals times a factor per month."""
    actuals = monthly_actuals()
    return pd.DataFrame(
        {
            "month": actuals.index,
            "days": actuals.index.days_in_month,
            "deliveries": [v * 1e6 * bias.get(m.month, 1.0) for m, v in actuals.items()],
        }
    )


def test_shape_section_reports_the_rms_error_and_replaces_itself_in_a_report() -> None:
    exact = monthly_shape(_monthly_like_a_run({}))
    assert rms_index_error(exact) == pytest.approx(0.0, abs=1e-12)
    shape = monthly_shape(_monthly_like_a_run({1: 1.3, 12: 0.8}))  # January too high, December too low
    rms = rms_index_error(shape)
    assert rms > 0.05
    section = shape_section(shape, [1001, 1002], 200_000, "Made by a test.")
    assert section.startswith(SECTION_HEADING)
    assert f"Root-mean-square error of the monthly index: {rms:.3f}" in section
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| month")]
    assert [r.split("|")[1].strip() for r in rows] == [m.capitalize() for m in MONTHS]
    report = "# Report\n\n## Targets\n\nt\n\n## Figures\n\n![f](f.png)\n"
    once = update_report(report, section)
    assert once.index(SECTION_HEADING) < once.index("## Figures") and once.index("## Targets") < once.index(SECTION_HEADING)
    again = update_report(once, shape_section(exact, [1], 1000, "Again."))
    assert again.count(SECTION_HEADING) == 1 and "Again." in again and "Made by a test." not in again
    assert again.endswith("## Figures\n\n![f](f.png)\n")


def test_the_shipped_calibration_report_shows_the_monthly_shape() -> None:
    """calibration/report.md has one monthly-shape section, and its rms agrees with its own table."""
    from simsales._paths import default_file

    text = default_file("calibration/report.md").read_text(encoding="utf-8")
    assert text.count(SECTION_HEADING) == 1
    section = text[text.index(SECTION_HEADING) :].split("\n## ", 1)[0]
    rows = [line.split("|") for line in section.splitlines() if line.startswith("| ") and not line.startswith("| month")]
    assert len(rows) == 12
    errors = np.array([float(r[6]) for r in rows])
    stated = float(section.split("monthly index: ")[1].split("*")[0])
    assert stated == pytest.approx(np.sqrt((errors**2).mean()), abs=0.006)  # the table's errors are rounded to 0.01


def test_report_command_writes_the_section_into_a_report(tmp_path) -> None:
    """`python -m simsales.seasonality --report FILE` (tiny size) replaces the section, keeping the rest."""
    from simsales.seasonality import main

    report = tmp_path / "report.md"
    stale = f"{SECTION_HEADING}\n\nstale numbers\n\n"
    report.write_text(f"# Calibration report\n\n## Targets\n\nt\n\n{stale}## Figures\n\n![f](f.png)\n", encoding="utf-8")
    main(["--report", str(report), "--seeds", "1", "--consumers", "2000", "--jobs", "1"])
    text = report.read_text(encoding="utf-8")
    assert text.count(SECTION_HEADING) == 1 and "stale numbers" not in text
    assert text.index("## Targets") < text.index(SECTION_HEADING) < text.index("## Figures") and text.endswith("(f.png)\n")
    assert "mean over seeds 1001 at 2,000 consumers" in text


def test_calibration_report_section_runs_the_fit_on_the_report_seeds() -> None:
    """simsales.calibration.report.monthly_shape_markdown: runs on the report's seeds and size; a short window gets a note."""
    from types import SimpleNamespace

    from simsales.calibration.fitted import load_unfitted_scenario
    from simsales.calibration.report import monthly_shape_markdown

    scenario = load_unfitted_scenario().replace(**{"run.warmup_days": 30})
    calib = SimpleNamespace(setup=SimpleNamespace(scenario=scenario), fitted={"journey.outside_utility": 1.7},
                            report_seeds=(7,), report_n=2_000)
    section = monthly_shape_markdown(calib)  # type: ignore[arg-type]
    assert section.startswith(SECTION_HEADING) and "mean over seeds 7 at 2,000 consumers" in section
    short = SimpleNamespace(**{**vars(calib), "setup": SimpleNamespace(scenario=scenario.replace(**{"run.days": 200}))})
    assert "Not computed" in monthly_shape_markdown(short)  # type: ignore[arg-type]
