"""Inputs at the edges (issue 13): every case found is refused before running with the file, the key
and the allowed values, or runs with correct numbers.  One table per kind of input."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from simsales import MarketModel, Scenario, load_scenario
from simsales.agents import dealers
from simsales.cli import main
from simsales.experiments.engine import plan
from simsales.experiments.files import load_experiment
from simsales.journey import MAX_DEMAND_MULTIPLIER
from simsales.kpis import compute_kpis, kpi_table, note_of
from simsales.scenario import ScenarioError, bounds

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "experiments" / "baseline_2023.toml"


@pytest.fixture(scope="module")
def base() -> Scenario:
    return load_scenario()


# --- values the model cannot represent: refused with key and allowed range ------------------------

S = "2023-03-01"
#: (overrides, key named, fragment of the message)
VALUES: dict[str, tuple[dict[str, Any], str, str]] = {
    "stock push overflowing int32 stock": (
        {"shocks": [{"kind": "stock_push", "start": S, "push": 1e12}]}, "shocks[0].push", "allowed: (0.0, 20.0]"),
    "set-up cost overflowing profit to -inf": (
        {"strategies": [{"kind": "risk_reserve", "start": S, "setup_cost": 1.7e308}]}, "strategies[0].setup_cost", "allowed: [0.0, 1e+13]"),
    "trade-in premium 1e300": (
        {"strategies": [{"kind": "trade_in_programme", "start": S, "premium": 1e300}]}, "strategies[0].premium", "allowed: [0.0, 1e+08]"),
    "demand trend -1.5 (complex multiplier)": (
        {"population.demand_trend_per_year": -1.5}, "population.demand_trend_per_year", "allowed: (-1.0, 1.0]"),
    "demand trend -1.0 (division by zero)": (
        {"population.demand_trend_per_year": -1.0}, "population.demand_trend_per_year", "allowed: (-1.0, 1.0]"),
    "demand trend above the entry ceiling": (
        {"population.demand_trend_per_year": 0.8}, "population.demand_trend_per_year", "[0.001, 1.5]"),
    "delivery delay factor 1e9 (int cast)": (
        {"shocks": [{"kind": "delivery_delay", "start": S, "factor": 1e9}]}, "shocks[0].factor", "allowed: (0.0, 100.0]"),
    "research days 1e12 (int cast)": ({"journey.research_days": 1e12}, "journey.research_days", "allowed: (0.0, 3650.0]"),
    "days 1e9 (date overflow)": ({"run.days": 10**9}, "run.days", "allowed: (0.0, 36500]"),
    "warm-up 1e6 (date overflow)": ({"run.warmup_days": 10**6}, "run.warmup_days", "allowed: [0.0, 36500]"),
    "start date 9999-12-01": ({"run.start_date": "9999-12-01"}, "run.start_date", "allowed: [1900-01-01, 2200-12-31]"),
    "real population 1e-300 (int overflow)": ({"run.real_population": 1e-300}, "run.real_population", "must be at least"),
    "n_consumers 10^12": ({"run.n_consumers": 10**12}, "run.n_consumers", "allowed: (0.0, 1e+08]"),
    "a list as a kind": ({"shocks": [{"kind": [], "start": S}]}, "shocks[0].kind", "expected a kind name, got []"),
    "a list as a metric": (
        {"risk_rules": [{"name": "r", "metric": [], "above": 1, "action": {"kind": "clearance"}}]},
        "risk_rules[0].metric", "unknown metric"),
    "dealer discount 1.0 silently capped": (
        {"shocks": [{"kind": "dealer_discount", "start": S, "change": 1.0}]}, "shocks[0].change", "allowed: [-1.0, 0.9]"),
    "dealer discount past the cap with a markdown": (
        {"shocks": [{"kind": "dealer_discount", "start": S, "change": 0.85}]}, "shocks[0].change", "allowed: <= 0.75"),
    "clearance past the cap": (
        {"strategies": [{"kind": "clearance", "start": S, "discount": 0.8}]}, "strategies[0].discount", "allowed: <= 0.75"),
    "replenishment beyond the stock pipeline": (
        {"network.formats.ice_4s.replenish_days": 400}, "network.formats[0].replenish_days", "allowed: [0.0, 255]"),
}  # fmt: skip


@pytest.mark.parametrize("case", VALUES, ids=list(VALUES))
def test_unrepresentable_values_are_refused_with_key_and_range(base: Scenario, case: str) -> None:
    overrides, key, fragment = VALUES[case]
    with pytest.raises(ScenarioError) as caught:
        base.replace(**overrides)
    assert caught.value.key == key
    assert fragment in str(caught.value)


def test_bounds_agree_with_the_model_constants() -> None:
    assert bounds.MAX_REPLENISH_DAYS == dealers.PIPELINE_DAYS - 1
    assert bounds.MAX_DISCOUNT == dealers.MAX_DISCOUNT
    assert pytest.approx(MAX_DEMAND_MULTIPLIER - 1) == bounds.MAX_DEMAND_CHANGE


def test_demand_limit_names_the_shock(base: Scenario) -> None:
    # the shock (+45%) and the trend (+30% a year) are each inside their ranges; together they ask for > 1.5 x
    scenario = base.replace(
        shocks=[{"kind": "demand", "name": "boom", "start": S, "change": 0.45}],
        **{"population.demand_trend_per_year": 0.3},
    )
    with pytest.raises(ScenarioError) as caught:
        MarketModel(scenario=scenario, n_consumers=2000)
    assert caught.value.key == "shocks[0].change" and "shocks[0] 'boom'" in str(caught.value)


def test_validate_names_the_file_for_model_build_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file = tmp_path / "boom.toml"
    file.write_text(f'extends = "{BASELINE}"\n[[shocks]]\nkind = "demand"\nstart = {S}\nchange = 0.49\n'
                    '[population]\ndemand_trend_per_year = 0.3\n')  # fmt: skip
    assert main(["validate", str(file)]) == 2
    err = capsys.readouterr().err
    assert f"{file}: shocks[0].change" in err


def test_validate_checks_memory_for_the_real_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "big.toml"
    file.write_text(f'extends = "{BASELINE}"\n[run]\nn_consumers = 50_000_000\n')
    monkeypatch.setattr(bounds, "available_bytes", lambda: 4e9)
    assert main(["validate", str(file)]) == 2
    err = capsys.readouterr().err
    assert "run.n_consumers" in err and "GB" in err and "consumers fit" in err
    assert bounds.memory_problem(load_scenario(), available=4e9) is None  # the shipped 200,000 fit in 4 GB


# --- files: nesting and references name the referring file and key -------------------------------


def test_deeply_nested_array_is_an_error_not_a_recursion(tmp_path: Path) -> None:
    file = tmp_path / "deep.toml"
    file.write_text("x = " + "[" * 100_000 + "]" * 100_000 + "\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(file)
    assert caught.value.file == str(file) and "nested too deeply" in str(caught.value)


REFS = {  # key -> the TOML that refers to a broken file through that key
    "extends": 'extends = "{ref}"\n',
    "products": 'extends = "{base}"\nproducts = "{ref}"\n',
    "population": 'extends = "{base}"\npopulation = "{ref}"\n',
    "network": 'extends = "{base}"\nnetwork = "{ref}"\n',
    "salesforce": 'extends = "{base}"\nsalesforce = "{ref}"\n',
    "fitted": 'extends = "{base}"\nfitted = "{ref}"\n',
    "shocks[0].spec": 'extends = "{base}"\n[[shocks]]\nspec = "{ref}"\nstart = 2023-03-01\n',
    "strategies[0].spec": 'extends = "{base}"\n[[strategies]]\nspec = "{ref}"\nstart = 2023-03-01\n',
}


@pytest.mark.parametrize("broken", ["not toml", "binary", "folder"])
@pytest.mark.parametrize("key", REFS)
def test_unreadable_references_name_the_referring_file_and_key(tmp_path: Path, key: str, broken: str) -> None:
    target = tmp_path / "target.toml"
    if broken == "not toml":
        target.write_text("this is = not = toml\n")
    elif broken == "binary":
        target.write_bytes(b"\x00\xff\xfe\x00")
    else:
        target.mkdir()
    top = tmp_path / "top.toml"
    top.write_text(REFS[key].format(ref=target.name, base=BASELINE))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(top)
    assert caught.value.file == str(top.resolve()) and caught.value.key == key
    assert "target.toml" in str(caught.value)
    assert "does not exist" not in str(caught.value)


def test_an_override_that_cuts_a_shock_out_names_the_flag() -> None:
    shock = ROOT / "experiments" / "shock_demand_drop.toml"
    with pytest.raises(ScenarioError) as caught:
        load_scenario(shock, {"run.days": 30}, labels={"run.days": "--days"})
    assert caught.value.key == "shocks[0].start" and "--days 30" in str(caught.value)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(shock, {"run.days": -3}, labels={"run.days": "--days"})
    assert caught.value.file == "--days" and caught.value.key == "run.days"


# --- experiment specs: typed, checked before the first run ---------------------------------------

HEAD = f'name = "t"\nscenario = "{BASELINE}"\n'
ARMS = '[[arms]]\nname = "a"\n[[arms]]\nname = "b"\nparams = { "journey.outside_utility" = 1.2 }\n'
SPECS: dict[str, tuple[str, str, str]] = {
    "replicates text": (HEAD + 'replicates = "ten"\n' + ARMS, "replicates", "expected a whole number, got 'ten'"),
    "root_seed text": (HEAD + 'root_seed = "x"\n' + ARMS, "root_seed", "expected a whole number"),
    "sample bound text": (
        HEAD + '[sample]\nn = 4\n[sample.parameters]\n"journey.outside_utility" = ["a", 2]\n',
        "sample.parameters.journey.outside_utility[0]", "expected a number"),
    "sample bounds reversed": (
        HEAD + '[sample]\nn = 4\n[sample.parameters]\n"journey.outside_utility" = [2, 1]\n',
        "sample.parameters.journey.outside_utility", "must be [low, high]"),
    "adaptive batch 0": (HEAD + ARMS + "[adaptive]\nmax_replicates = 8\nbatch = 0\n", "adaptive.batch", "allowed: [1, 100000]"),
    "adaptive batch -1": (HEAD + ARMS + "[adaptive]\nmax_replicates = 8\nbatch = -1\n", "adaptive.batch", "allowed: [1, 100000]"),
    "window start soon": (HEAD + ARMS + '[window]\nstart = "soon"\n', "window.start", "expected a date"),
    "window after horizon": (HEAD + ARMS + "[window]\nstart = 2030-01-01\n", "window.start", "outside the recorded horizon"),
    "unknown recovery series": (HEAD + 'recovery_series = "margins"\n' + ARMS, "recovery_series", "allowed: entries"),
    "unknown window series": (HEAD + ARMS + '[window]\nseries = ["profit"]\n', "window.series[0]", "focal_profit"),
    "arms as a string": (HEAD + 'arms = "baseline"\n', "arms", "expected [[arms]] tables"),
    "shortfall alpha 2": (HEAD + "shortfall_alpha = 2\n" + ARMS, "shortfall_alpha", "allowed: (0.0, 1.0]"),
    "run days text": (HEAD + ARMS + '[run]\ndays = "long"\n', "run.days", "expected a whole number"),
    "threshold value text": (
        HEAD + ARMS + '[[thresholds]]\nkpi = "focal.profit"\nbelow = "low"\n', "thresholds[0].below", "expected a number"),
}  # fmt: skip


@pytest.mark.parametrize("case", SPECS, ids=list(SPECS))
def test_spec_problems_are_found_before_the_first_run(tmp_path: Path, case: str) -> None:
    text, key, fragment = SPECS[case]
    file = tmp_path / "spec.toml"
    file.write_text(text)
    with pytest.raises(ScenarioError) as caught:
        plan(load_experiment(file), 1)  # plan() runs nothing: it resolves and checks every arm
    assert caught.value.file == str(file) and caught.value.key == key
    assert fragment in str(caught.value)


# --- the same-lever rule: only the levers and cells a shock touches -----------------------------

LEVER_CASES: dict[str, tuple[list[dict[str, Any]], bool]] = {
    "purchase tax cap then exemption": (
        [{"kind": "purchase_tax", "name": "cap", "start": S, "cap": 30000},
         {"kind": "purchase_tax", "name": "halve", "start": "2023-06-01", "exemption": 0.5}], True),
    "purchase tax exemption twice": (
        [{"kind": "purchase_tax", "name": "a", "start": S, "exemption": 0.5},
         {"kind": "purchase_tax", "name": "b", "start": "2023-06-01", "exemption": 0.0}], False),
    "NEV taste up, ICE preference down": (
        [{"kind": "nev_affinity", "start": S, "utility": 0.3},
         {"kind": "preference", "start": S, "utility": -0.3, "scope": {"powertrain": "ICE"}}], True),
    "licence plates and ICE preference": (
        [{"kind": "licence_plate", "start": S},
         {"kind": "preference", "start": S, "utility": -0.3, "scope": {"powertrain": "ICE"}}], True),
    "NEV taste up and a BEV preference (same cells)": (
        [{"kind": "nev_affinity", "start": S, "utility": 0.3},
         {"kind": "preference", "start": S, "utility": 0.2, "scope": {"powertrain": "BEV"}}], False),
}  # fmt: skip


@pytest.mark.parametrize("case", LEVER_CASES, ids=list(LEVER_CASES))
def test_same_lever_rule_compares_what_shocks_touch(base: Scenario, case: str) -> None:
    shocks, accepted = LEVER_CASES[case]
    if accepted:
        assert len(base.replace(shocks=shocks).shocks) == 2
    else:
        with pytest.raises(ScenarioError, match="both change"):
            base.replace(shocks=shocks)


def test_nev_affinity_still_shifts_only_nevs(base: Scenario) -> None:
    model = MarketModel(scenario=base.replace(shocks=[{"kind": "nev_affinity", "start": "2023-01-01", "utility": 0.4}]),
                        n_consumers=2000, days=5, warmup_days=0, seed=1)  # fmt: skip
    model.step()
    shift = model.levers.utility_shift
    nev = model.catalogue.is_nev
    assert (shift[:, nev] == 0.4).all() and (shift[:, ~nev] == 0.0).all()


# --- KPIs that cannot be computed say why ------------------------------------------------------


def test_kpis_without_a_denominator_carry_a_note(base: Scenario) -> None:
    nobody = base.replace(**{"population.entry_rate_owner": 0.0, "population.entry_rate_nonowner": 0.0})
    model = MarketModel(scenario=nobody, n_consumers=1500, days=40, warmup_days=30, seed=3)
    model.run_model()
    values = compute_kpis(model)
    assert math.isnan(values["market.nev_share"])
    assert note_of(values["market.nev_share"]) == "no buyers (deliveries) in the recorded window"
    assert "warm-up shorter than a year" in note_of(values["market.total_sales_yoy"])
    table = kpi_table(values)
    missing = table[table["value"].isna()]
    assert not missing.empty and (missing["note"] != "").all()
    assert (table.loc[table["value"].notna(), "note"] == "").all()
