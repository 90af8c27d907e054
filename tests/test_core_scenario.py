"""Scenario loader basics: the shipped defaults, overrides, and errors that name the key.

(The full set of malformed-file cases lives in the scenario-validation tests of issue 3.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from simsales import MarketModel, Scenario, ScenarioError, load_scenario
from simsales._paths import default_scenario_path


def test_defaults_load(baseline: Scenario) -> None:
    assert baseline.name == "baseline_2023"
    assert len(baseline.products) >= 6
    assert {p.powertrain for p in baseline.products} == {"BEV", "PHEV", "ICE"}
    assert {p.brand_type for p in baseline.products} == {"domestic", "jv"}
    assert {"ice_4s", "nev_direct", "flagship", "community", "mobile_van"} <= {f.name for f in baseline.network.formats}
    assert baseline.run.start_date.isoformat() == "2023-01-01"
    assert default_scenario_path().is_file()


def test_overrides_replace_values_and_leave_the_original(baseline: Scenario) -> None:
    changed = baseline.replace(**{"journey.outside_utility": 0.123, "network.formats.ice_4s.staff": 33})
    assert changed.journey.outside_utility == 0.123
    assert changed.get("journey.outside_utility") == 0.123
    assert next(f for f in changed.network.formats if f.name == "ice_4s").staff == 33
    assert baseline.journey.outside_utility != 0.123  # frozen original untouched
    loaded = load_scenario(overrides={"run.n_consumers": 1234})
    assert loaded.run.n_consumers == 1234


def test_unknown_key_is_named_with_a_suggestion(baseline: Scenario) -> None:
    with pytest.raises(ScenarioError) as err:
        baseline.replace(**{"journey.outside_utilty": 1.0})
    assert err.value.key == "journey.outside_utilty"
    assert "outside_utility" in str(err.value)


def test_out_of_range_probability_is_rejected(baseline: Scenario) -> None:
    with pytest.raises(ScenarioError) as err:
        baseline.replace(**{"journey.research_dropout": 1.5})
    assert err.value.key == "journey.research_dropout"
    assert "[0.0, 1.0]" in str(err.value)


def test_bad_file_names_file_and_key(tmp_path: Path) -> None:
    file = tmp_path / "bad.toml"
    file.write_text(f'extends = "{default_scenario_path().as_posix()}"\n\n[journey]\nresearch_dayz = 30\n')
    with pytest.raises(ScenarioError) as err:
        load_scenario(file)
    assert err.value.key == "journey.research_dayz"
    assert str(file) in str(err.value)
    assert "research_days" in str(err.value)


def test_extending_file_overrides_the_baseline(tmp_path: Path) -> None:
    file = tmp_path / "shock.toml"
    file.write_text(f'extends = "{default_scenario_path().as_posix()}"\nname = "shock"\n\n[policy]\nnev_tax_exemption = 0.5\n')
    scenario = load_scenario(file)
    assert scenario.name == "shock"
    assert scenario.policy.nev_tax_exemption == 0.5
    assert scenario.journey == load_scenario().journey


def test_model_rejects_bad_parameters_before_simulating() -> None:
    with pytest.raises(ScenarioError) as err:
        MarketModel(n_consumers=1000, params={"ownership.churn_base": -0.1})
    assert err.value.key == "ownership.churn_base"
