"""The dashboard's numbers (simsales.dashboard.compute) equal what the library gives for the same seeds and size.

One small dashboard run (a shock next to the baseline, 2 replicates of 3,000 consumers) is
checked against independent `MarketModel` runs with the experiment's replicate seeds.
"""

from __future__ import annotations

import numpy as np
import pytest

from simsales._paths import default_file
from simsales.dashboard import Settings, effects, funnel, kpi_vs_target, monthly_bands, run_dashboard, stage_upload
from simsales.dashboard.compute import BASELINE, shipped_scenarios
from simsales.experiments import replicate_seeds
from simsales.kpis import load_targets
from simsales.model import MarketModel
from simsales.run import RunResult
from simsales.scenario import ScenarioError
from simsales.scenario.schema import DAYS_PER_MONTH

SIZE = {"n_consumers": 3_000, "days": 200, "warmup_days": 60}
SHOCK = "shock_demand_drop"
ROOT = 7


def _library_run(scenario: str, seed: int) -> RunResult:
    model = MarketModel(scenario=default_file(f"experiments/{scenario}.toml"), seed=seed, **SIZE)
    model.run_model()
    return RunResult.from_model(model)


@pytest.fixture(scope="module")
def dash():
    progress: list[tuple[int, int]] = []
    result = run_dashboard(Settings(SHOCK, replicates=2, root_seed=ROOT, **SIZE), lambda d, n: progress.append((d, n)))
    result.progress = progress  # type: ignore[attr-defined]
    return result


@pytest.fixture(scope="module")
def library() -> dict[str, list[RunResult]]:
    seeds = replicate_seeds(ROOT, 2)
    return {arm: [_library_run(arm, s) for s in seeds] for arm in (BASELINE, SHOCK)}


def test_runs_both_arms_with_the_experiment_seeds_and_reports_progress(dash) -> None:
    assert dash.focus == SHOCK and dash.baseline == BASELINE and dash.compared
    assert dash.seeds == replicate_seeds(ROOT, 2)
    assert dash.progress[0] == (0, 4) and dash.progress[-1] == (4, 4) and len(dash.progress) == 5
    assert dash.scales[SHOCK] == pytest.approx(4e8 / 3_000)


def test_kpis_equal_library_runs_with_the_same_seeds(dash, library) -> None:
    table = kpi_vs_target(dash).set_index("kpi")
    for kpi in ("market.total_sales", "market.nev_share", "consumer.satisfaction"):
        expected = np.mean([r.kpi(kpi) for r in library[SHOCK]])
        assert table.at[kpi, "simulated"] == pytest.approx(expected, rel=1e-12)
        assert table.at[kpi, "baseline"] == pytest.approx(np.mean([r.kpi(kpi) for r in library[BASELINE]]), rel=1e-12)
    targets = library[SHOCK][0].kpis.set_index("id")
    assert table.at["market.total_sales", "target_2023"] == targets.at["market.total_sales", "target"]
    assert table.at["market.total_sales", "unit"] == "million units"
    # 200 recorded days do not cover 2023: shown beside the 2023 figures but not scored
    assert not dash.scored and table["within"].isna().all()
    low, high = table.at["market.total_sales", "ci_low"], table.at["market.total_sales", "ci_high"]
    assert low <= table.at["market.total_sales", "simulated"] <= high


def test_effects_are_paired_differences_of_the_same_seeds(dash, library) -> None:
    table = effects(dash).set_index("kpi")
    for kpi in ("consumer.satisfaction", "journey.lead_conversion"):
        diffs = [a.kpi(kpi) - b.kpi(kpi) for a, b in zip(library[SHOCK], library[BASELINE], strict=True)]
        assert table.at[kpi, "diff"] == pytest.approx(np.mean(diffs), abs=1e-9)
        assert table.at[kpi, "ci_low"] <= table.at[kpi, "diff"] <= table.at[kpi, "ci_high"]
    assert table.at["focal.profit", "unit"] == "billion yuan"


def test_monthly_bands_and_funnel_are_in_real_units(dash, library) -> None:
    bands = monthly_bands(dash)
    sales = bands[(bands["series"] == "sales") & (bands["arm"] == SHOCK)].set_index("month")
    per_rep = [r.monthly.set_index("month") for r in library[SHOCK]]  # real units (simsales.units)
    month = sales.index[2]
    cars = [m.at[month, "deliveries"] / m.at[month, "days"] * DAYS_PER_MONTH / 1e3 for m in per_rep]
    assert per_rep[0].at[month, "deliveries"] == pytest.approx(per_rep[0].at[month, "deliveries_agents"] * 4e8 / 3_000)
    assert sales.at[month, "mean"] == pytest.approx(np.mean(cars))
    assert sales.at[month, "low"] == pytest.approx(min(cars)) and sales.at[month, "high"] == pytest.approx(max(cars))
    assert sales["unit"].iloc[0] == "thousand cars / month"
    stock = bands[(bands["series"] == "stock") & (bands["arm"] == BASELINE)].set_index("month")
    last = stock.index[-1]
    base = [r.monthly.set_index("month") for r in library[BASELINE]]
    expected = np.mean([(m.at[last, "stock_ICE"] + m.at[last, "stock_NEV"]) / 1e3 for m in base])
    assert stock.at[last, "mean"] == pytest.approx(expected)
    # the funnel's last stage is the market's deliveries, the same real rate as the total-sales KPI
    stages = funnel(dash).set_index(["arm", "stage"])
    assert stages.at[(SHOCK, "Deliveries"), "value"] == pytest.approx(
        np.mean([r.kpi("market.total_sales") for r in library[SHOCK]])
    )
    assert stages.at[(SHOCK, "Entered the market"), "share_of_entrants"] == pytest.approx(100)


def test_results_component_shows_the_numbers(dash) -> None:
    solara = pytest.importorskip("solara")
    from simsales.dashboard.app import Results, fmt

    _box, rc = solara.render(Results(dash), handle_error=False)
    html = "".join(w.unsafe_innerHTML or "" for w in rc.find(solara.widgets.HTML).widgets)
    value = float(kpi_vs_target(dash, ["market.total_sales"])["simulated"].iloc[0])
    assert f'data-kpi="market.total_sales" data-value="{value!r}"' in html
    assert f'<span class="ss-value">{fmt(value)}</span>' in html


def test_scenario_list_and_size_errors() -> None:
    names = shipped_scenarios()
    assert names[0] == BASELINE and SHOCK in names and not any(n.startswith("exp_") for n in names)
    with pytest.raises(ScenarioError, match="replicates"):
        Settings(replicates=0).check()
    with pytest.raises(ScenarioError, match="unknown scenario 'nope'"):
        Settings("nope").scenario_path()
    with pytest.raises(ScenarioError, match="outside the horizon"):  # a shock after the horizon: caught before running
        run_dashboard(Settings(SHOCK, replicates=1, n_consumers=3_000, days=30, warmup_days=10))


def test_uploaded_scenario_extends_shipped_files_and_bad_ones_are_named(tmp_path) -> None:
    good = b'extends = "baseline_2023.toml"\nname = "my_shock"\ndescription = "x"\n[run]\ndays = 60\n'
    path = stage_upload("my_shock.toml", good, tmp_path / "a")
    assert path.name == "my_shock.toml"
    settings = Settings(str(path), n_consumers=3_000, replicates=1, warmup_days=10)
    assert settings.label == "my_shock"
    bad = b'extends = "baseline_2023.toml"\nname = "bad"\n[run]\ndayz = 60\n'
    with pytest.raises(ScenarioError) as err:
        stage_upload("bad.toml", bad, tmp_path / "b")
    assert "bad.toml" in str(err.value) and "dayz" in str(err.value)
    with pytest.raises(ScenarioError, match=r"\.toml"):
        stage_upload("notes.txt", b"", tmp_path / "c")


def test_a_run_covering_2023_is_scored_against_its_figures() -> None:
    dash = run_dashboard(Settings(BASELINE, n_consumers=3_000, replicates=1, days=365, warmup_days=30))
    assert dash.scored and not dash.compared and effects(dash).empty
    table = kpi_vs_target(dash).set_index("kpi")
    expected = abs(table.at["market.nev_share", "gap"]) <= load_targets().at["market.nev_share", "tolerance"]
    within = table.at["market.nev_share", "within"]
    assert within is not None and bool(within) == bool(expected)
