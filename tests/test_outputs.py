"""Run outputs are in real units and every column of every written file is documented in docs/outputs.md."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from simsales.run import RunResult, covers_target_year, run
from simsales.scenario import load_scenario
from simsales.units import real_scale

DOCS = Path(__file__).parents[1] / "docs" / "outputs.md"


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunResult, Path]:
    result = run(seed=5, n_consumers=4_000, days=40)
    return result, result.save(tmp_path_factory.mktemp("out"))


def documented(section: str) -> set[str]:
    """Column names in the first cell of the tables under a '## <section>' heading."""
    text = DOCS.read_text()
    body = text.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    return {m.group(1) for m in re.finditer(r"^\| `([^`]+)` \|", body, flags=re.MULTILINE)}


def test_every_written_column_is_documented(written: tuple[RunResult, Path]) -> None:
    _, folder = written
    daily = set(pd.read_parquet(folder / "daily.parquet").columns)
    monthly = set(pd.read_parquet(folder / "monthly.parquet").columns)
    dealers = set(pd.read_parquet(folder / "dealers.parquet").columns)
    kpis = set(pd.read_csv(folder / "kpis.csv").columns)
    products = set(pd.read_parquet(folder / "products.parquet").columns)
    assert products - documented("products.parquet") == set()
    assert daily - documented("daily.parquet") == set()
    assert monthly - documented("daily.parquet") - documented("monthly.parquet") == set()
    assert dealers - documented("dealers.parquet") == set()
    assert kpis - documented("kpis.csv") == set()


def test_series_and_dealers_are_in_real_units(written: tuple[RunResult, Path]) -> None:
    result, folder = written
    daily = pd.read_parquet(folder / "daily.parquet")
    scale = 400e6 / 4_000
    assert result.scale == pytest.approx(scale)
    assert (daily["deliveries"] == daily["deliveries_agents"] * scale).all()
    assert daily["deliveries_agents"].sum() > 0
    # the annual sales KPI (million units) is the daily series summed and annualised
    annual = daily["deliveries"].sum() * 365 / len(daily) / 1e6
    assert result.kpi("market.total_sales") == pytest.approx(annual)
    dealers = pd.read_parquet(folder / "dealers.parquet")
    assert dealers["deliveries"].sum() == pytest.approx(daily["deliveries"].sum())
    # 30 store agents stand for the 32,000 real outlets of the network file
    assert dealers["outlets"].sum() == pytest.approx(32_000, rel=0.01)
    assert daily["open_stores"].iloc[0] == pytest.approx(32_000, rel=0.01)


def test_sales_by_product_add_up_to_the_market(written: tuple[RunResult, Path]) -> None:
    """products.parquet splits the monthly deliveries, orders and revenue by product, in real units."""
    _result, folder = written
    products = pd.read_parquet(folder / "products.parquet")
    monthly = pd.read_parquet(folder / "monthly.parquet")
    assert set(products["product"]) == {p.id for p in load_scenario(None).products}
    by_month = products.groupby("month")[["orders", "deliveries", "revenue"]].sum()
    for name in ("orders", "deliveries", "revenue"):
        assert by_month[name].to_numpy() == pytest.approx(monthly.set_index("month")[name].to_numpy())
    assert products["deliveries"].sum() > 0
    sold = products[products["deliveries"] > 0]
    assert (sold["avg_price"] == sold["revenue"] / sold["deliveries"]).all()
    assert products.loc[products["deliveries"] == 0, "avg_price"].isna().all()


def test_kpis_csv_has_units_and_leaves_unscored_kpis_blank(written: tuple[RunResult, Path]) -> None:
    result, folder = written
    kpis = pd.read_csv(folder / "kpis.csv").set_index("id")
    assert kpis.at["focal.profit", "unit"] == "billion yuan" and kpis["unit"].notna().all()
    assert not covers_target_year(result.daily)  # 40 days of 2023
    assert kpis["within"].isna().all()  # a partial year is not scored against full-year figures
    assert kpis["rel_error"].notna().any()


def test_the_scale_factor_is_defined_once() -> None:
    from simsales.scenario import load_scenario

    run_spec = load_scenario().run
    assert real_scale(run_spec) == run_spec.real_population / run_spec.n_consumers == pytest.approx(2_000)
    sources = Path(__file__).parents[1] / "simsales"
    spelled = [p for p in sources.rglob("*.py") if "real_population / " in p.read_text() and p.name != "units.py"]
    assert spelled == []


def test_relative_changes_on_near_zero_bases_are_left_blank() -> None:
    import math

    from simsales.experiments.report import relative_change

    assert relative_change(10.0, 12.0) == pytest.approx(0.2)
    assert relative_change(-4.6, -5.0) == pytest.approx(-0.4 / 4.6)
    assert math.isnan(relative_change(0.1, -1.0))  # the sign changes: a percentage means nothing
    assert math.isnan(relative_change(0.01, 5.0))  # -> +49,900%: the base is near zero
    assert math.isnan(relative_change(0.0, 1.0))


def test_months_to_recover_is_reported_only_for_arms_with_a_shock() -> None:
    from simsales.experiments import Arm, Experiment
    from simsales.experiments.report import shocked_arms

    exp = Experiment(
        "recovery",
        arms=(
            Arm("baseline"),
            Arm("plan_only", scenario="riskplan_market"),
            Arm("demand_drop", scenario="shipped:shock_demand_drop"),
            Arm("inline", params={"shocks": [{"kind": "demand", "start": "2023-03-01", "change": -0.1}]}),
        ),
    )
    assert shocked_arms(exp) == ["demand_drop", "inline"]


def test_arms_whose_events_barely_start_in_the_window_are_warned_about() -> None:
    from simsales.experiments import Arm, Experiment
    from simsales.experiments.report import late_event_warnings

    arms = (Arm("baseline"), Arm("ai", scenario="strategy_ai_customer_service"), Arm("plan", scenario="riskplan_market"))
    short = late_event_warnings(Experiment("short", arms=arms, days=400))  # ends 2024-02-04; roll-out done 2024-07-01
    assert len(short) == 1 and "arm ai:" in short[0] and "0 of the 400 recorded days" in short[0]
    assert late_event_warnings(Experiment("long", arms=arms, days=1096)) == []
