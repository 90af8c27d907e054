"""The ready experiments in experiments/exp_*.toml: every spec loads and validates at full size, and the
reduced (--smoke) version of each runs from the command line and writes its report."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from simsales.cli import main
from simsales.experiments import load_experiment, plan

EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments"
SPECS = sorted(EXPERIMENTS.glob("exp_*.toml"))


def test_the_three_ready_experiments_exist() -> None:
    names = {p.stem for p in SPECS}
    assert {"exp_strategies", "exp_stress_policy", "exp_sobol_sensitivity"} <= names


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.stem)
def test_spec_validates_at_full_and_smoke_size(spec: Path) -> None:
    full = load_experiment(spec)
    # every arm's scenario is built and checked (events inside the horizon, ranges); sampled
    # designs differ only in values inside the declared ranges, so their first 40 points suffice
    checked = full if full.sensitivity is None else replace(full, arms=full.arms[:40])
    tasks = plan(checked)
    assert len(tasks) == len(checked.arms) * full.replicates
    smoke = load_experiment(spec, smoke=True)
    assert smoke.name == full.name
    assert smoke.n_consumers is not None and smoke.n_consumers <= 5_000
    assert len(plan(smoke)) <= 50


def _run(spec: str, out: Path) -> str:
    code = main(["experiment", str(EXPERIMENTS / spec), "--smoke", "--out", str(out), "--workers", "2", "--quiet"])
    assert code == 0
    return (out / "report.md").read_text()


def test_strategy_comparison_smoke(tmp_path: Path) -> None:
    report = _run("exp_strategies.toml", tmp_path)
    runs = pd.read_parquet(tmp_path / "kpis.parquet")
    assert set(runs["arm"]) == {"baseline", "ai_customer_service", "incentive_reform", "vr_showroom"}
    assert (runs["status"] == "done").all()
    assert "Headline differences" in report and "ai_customer_service" in report
    assert "Monthly series over" not in report  # the smoke horizon ends before the window (2025-07-01): no 0-month table
    assert (tmp_path / "forest.png").is_file()


def test_policy_stress_test_smoke(tmp_path: Path) -> None:
    report = _run("exp_stress_policy.toml", tmp_path)
    runs = pd.read_parquet(tmp_path / "kpis.parquet")
    assert runs["arm"].nunique() == 8 and (runs["status"] == "done").all()
    assert {"tax", "price_war", "plan"} <= set(runs.columns)
    for section in ("Breach probabilities", "Expected shortfall of focal.profit", "Months to recover"):
        assert section in report
    assert len(list(tmp_path.glob("breach_*.png"))) == 4


def test_sobol_sensitivity_smoke(tmp_path: Path) -> None:
    pytest.importorskip("SALib")
    report = _run("exp_sobol_sensitivity.toml", tmp_path)
    spec = load_experiment(EXPERIMENTS / "exp_sobol_sensitivity.toml")
    assert spec.sensitivity is not None and len(spec.sensitivity.parameters) == 10
    assert "Sensitivity indices" in report and "Parameter ranking" in report
    assert list(tmp_path.glob("tornado_*.png"))


def test_shipped_specs_are_found_by_name() -> None:
    by_name = load_experiment("exp_stress_policy")
    assert by_name == load_experiment(EXPERIMENTS / "exp_stress_policy.toml")
    assert Path(by_name.source).name == "exp_stress_policy.toml"


def test_shipped_calibration_ensemble_feeds_replicate_parameters(tmp_path: Path) -> None:
    from simsales.calibration import load_ensemble

    ensemble = load_ensemble()
    spec = tmp_path / "exp_ens.toml"
    spec.write_text(
        f'name = "ens"\nreplicates = 4\nscenario = "{EXPERIMENTS / "baseline_2023.toml"}"\n'
        '[run]\nn_consumers = 3000\ndays = 30\nwarmup_days = 30\n'
        '[[arms]]\nname = "baseline"\n[[arms]]\nname = "wtp"\nparams = { "population.nev_wtp_mean" = 0.2 }\n'
        '[ensemble]\nsource = "calibration"\n'
    )
    exp = load_experiment(spec)
    tasks = plan(exp)
    for task in tasks:
        row = ensemble.iloc[task.ensemble_member]
        assert task.scenario.journey.outside_utility == pytest.approx(row["journey.outside_utility"])
    members = [t.ensemble_member for t in tasks]
    assert members[:4] == members[4:]  # the same draw in both arms
