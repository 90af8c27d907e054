"""`simsales validate` and `simsales show` read an experiment spec as a spec, not as a scenario."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from simsales.cli import main


def test_validate_checks_shipped_specs_and_scenarios_by_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "exp_strategies", "baseline_2023"]) == 0
    out = capsys.readouterr().out
    assert "experiment 'exp_strategies'" in out and "20 arms x 10 replicates" in out
    assert "'baseline_2023', 365 days" in out


def test_validate_names_the_bad_key_of_a_spec(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "exp_bad.toml"
    spec.write_text('name = "bad"\n[[arms]]\nname = "a"\nparams = { "journey.outside_utilty" = 1.0 }\n')
    assert main(["validate", str(spec)]) == 2
    err = capsys.readouterr().err
    assert "arm 'a'" in err and "outside_utilty" in err and "unknown section" not in err


def test_show_prints_a_specs_resolved_arms_as_toml(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "exp_stress_policy"]) == 0
    shown = tomllib.loads(capsys.readouterr().out)
    assert shown["name"] == "exp_stress_policy" and len(shown["arms"]) == 8
    assert all(len(arm["scenario_hash"]) == 16 for arm in shown["arms"])


def test_shipped_names_resolve_in_the_python_api_from_any_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`Arm(scenario="strategy_ai_customer_service")` and `load_experiment("exp_strategies")` work like the CLI's names."""
    from simsales.experiments import Arm, Experiment, load_experiment, plan

    monkeypatch.chdir(tmp_path)
    exp = Experiment("names", arms=(Arm("baseline"), Arm("ai", scenario="strategy_ai_customer_service")), replicates=1)
    assert [t.scenario.name for t in plan(exp)] == ["baseline_2023", "strategy_ai_customer_service"]
    assert load_experiment("exp_strategies").name == "exp_strategies"
