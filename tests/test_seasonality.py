"""Seasonality: the 2023 monthly actuals, the monthly-shape comparison and the purchase profile's effect."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simsales.run import run
from simsales.scenario.schema import MONTHS
from simsales.seasonality import daily_rate_index, monthly_actuals, monthly_shape

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
    result = run(seed=seed, n_consumers=30_000, params={"run.warmup_days": 120, "population.seasonal_purchase": profile})
    orders = result.monthly.set_index("month")["orders"]
    return float(orders[pd.Timestamp("2023-01-01")] / orders[pd.Timestamp("2023-10-01")])


def test_a_spring_festival_trough_moves_orders_out_of_january() -> None:
    """Paired (same seeds): odds of buying x 0.6 in January lower January's orders against October's."""
    trough = {**FLAT, "jan": 0.6}
    for seed in (1, 2):
        assert _jan_over_oct(trough, seed) < _jan_over_oct(FLAT, seed) - 0.1
