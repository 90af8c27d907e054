"""simsales.experiments without the model's noise: seeds, designs, statistics, stores, spec files, SALib plumbing.

Statistics are checked against hand-computed values on constructed tables; the experiment
engine is driven by a deterministic stand-in runner (a closed-form function of the scenario's
parameters), so what is tested is the plumbing from arms to tables, not the market model.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import simsales
from simsales.experiments import (
    Adaptive,
    Arm,
    DirectoryStore,
    Experiment,
    MemoryStore,
    SensitivityDesign,
    Threshold,
    full_factorial,
    latin_hypercube,
    load_experiment,
    plan,
    replicate_seeds,
    run_experiment,
    sobol_points,
    stats,
)
from simsales.experiments.ensemble import draw_member
from simsales.scenario import ScenarioError

SMALL = {"n_consumers": 5_000, "days": 60, "warmup_days": 60}


@dataclass
class FakeResult:
    """What execute_task reads from a run: a KPI table and a monthly table."""

    kpis: pd.DataFrame
    monthly: pd.DataFrame


def fake_runner(scenario, seed):
    """Closed-form 'model': y = 10 a + 1 b + 0 c + small seed noise; monthly series from y."""
    a = scenario.population.nev_wtp_mean
    b = scenario.journey.outside_utility
    c = scenario.journey.research_dropout
    noise = np.random.default_rng(seed).normal(0, 0.01)
    y = 10 * a + b + 0 * c + noise
    kpis = pd.DataFrame({"id": ["market.total_sales", "market.nev_share"], "value": [y, 50 + a]})
    months = pd.date_range("2023-01-01", periods=3, freq="MS")
    monthly = pd.DataFrame({"month": months, "deliveries": [y, y * 1.1, y * 1.2], "focal_gross_margin": [y, y, y]})
    return FakeResult(kpis, monthly)


def failing_runner(scenario, seed):
    """Raises for one arm, works for the others (a run that crashes mid-experiment)."""
    if scenario.population.nev_wtp_mean > 0.5:
        raise RuntimeError("boom in the model")
    return fake_runner(scenario, seed)


def two_arm(**kwargs) -> Experiment:
    """Baseline and a treatment that raises nev_wtp_mean by 0.1 (fake effect +1.0 on total sales)."""
    args = {
        "name": "fake",
        "arms": (Arm("baseline"), Arm("up", params={"population.nev_wtp_mean": 0.2})),
        "replicates": 4,
        "runner": fake_runner,
        **SMALL,
    }
    args.update(kwargs)
    return Experiment(**args)


# --- seeds -----------------------------------------------------------------------------------


def test_replicate_seeds_come_from_seedsequence_spawn_and_extend_stably() -> None:
    seeds = replicate_seeds(42, 5)
    children = np.random.SeedSequence(42).spawn(5)
    assert seeds == [int(c.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)) for c in children]
    assert replicate_seeds(42, 8)[:5] == seeds  # adding replicates keeps earlier seeds
    assert len(set(replicate_seeds(42, 1000))) == 1000
    assert replicate_seeds(43, 5) != seeds


def test_every_arm_gets_the_same_replicate_seeds() -> None:
    tasks = plan(two_arm())
    by_arm = {arm: [t.seed for t in tasks if t.arm == arm] for arm in ("baseline", "up")}
    assert by_arm["baseline"] == by_arm["up"] == replicate_seeds(2023, 4)
    assert len({t.scenario_hash for t in tasks if t.arm == "up"}) == 1
    assert {t.scenario_hash for t in tasks if t.arm == "up"} != {t.scenario_hash for t in tasks if t.arm == "baseline"}
    assert all(t.scenario.run.n_consumers == 5_000 and t.scenario.run.days == 60 for t in tasks)


# --- designs ---------------------------------------------------------------------------------


def test_full_factorial_crosses_levels_and_merges_overrides() -> None:
    arms = full_factorial(
        {
            "tax": {"full": {}, "half": {"policy.nev_tax_exemption": 0.5}},
            "war": {"off": {}, "on": {"journey.outside_utility": 1.3}},
        }
    )
    assert [a.name for a in arms] == ["tax=full,war=off", "tax=full,war=on", "tax=half,war=off", "tax=half,war=on"]
    last = arms[-1]
    assert dict(last.params) == {"policy.nev_tax_exemption": 0.5, "journey.outside_utility": 1.3}
    assert dict(last.factors) == {"tax": "half", "war": "on"}


def test_sampled_designs_cover_ranges_and_are_seeded() -> None:
    ranges = {"journey.outside_utility": (0.5, 1.5), "population.nev_wtp_mean": (0.0, 0.3)}
    lhs = latin_hypercube(ranges, 8, seed=1)
    values = np.array([a.params["journey.outside_utility"] for a in lhs])
    assert values.min() >= 0.5 and values.max() <= 1.5
    # Latin hypercube: exactly one point in each of the 8 equal strata of every parameter
    assert sorted(np.floor((values - 0.5) / 1.0 * 8).astype(int)) == list(range(8))
    assert [a.params for a in latin_hypercube(ranges, 8, seed=1)] == [a.params for a in lhs]
    qmc_arms = sobol_points(ranges, 8, seed=3)
    assert len(qmc_arms) == 8 and qmc_arms[0].name == "qmc0000"
    assert dict(qmc_arms[0].factors) == dict(qmc_arms[0].params)


def test_factor_levels_layer_scenario_files_and_add_inline_events(tmp_path: Path) -> None:
    from simsales._paths import default_file

    war, market, inventory = (default_file(f"experiments/{n}.toml") for n in ("shock_price_war_nev", "riskplan_market", "riskplan_inventory"))
    arms = full_factorial(
        {
            "tax": {"full": {}, "halved": {"shocks": [{"kind": "purchase_tax", "start": "2024-01-01", "exemption": 0.5, "name": "tax_halved"}]}},
            "war": {"off": {}, "on": {"scenario": war}},
            "plan": {"none": {}, "with": {"scenario": [market, inventory]}},
        }
    )
    exp = Experiment("stress", arms=tuple(arms), replicates=1, n_consumers=5_000, days=800, warmup_days=30)
    tasks = {t.arm: t.scenario for t in plan(exp)}
    worst = tasks["tax=halved,war=on,plan=with"]
    assert [s.name for s in worst.shocks] == ["list_price", "tax_halved"]  # the file's shock, then the inline one
    assert {r.name for r in worst.risk_rules} == {"market_reserve", "sales_drop_lean_stock", "overstock_clearance", "aged_stock_transfers"}
    assert worst.run.days == 800  # the experiment's horizon, whatever the files say (731)
    assert not tasks["tax=full,war=off,plan=none"].shocks and not tasks["tax=full,war=off,plan=none"].risk_rules
    assert [s.name for s in tasks["tax=halved,war=off,plan=none"].shocks] == ["tax_halved"]
    # two layered files that disagree on a value are refused, naming the value
    for name, value in (("a", 1.1), ("b", 1.3)):
        (tmp_path / f"{name}.toml").write_text(f'extends = "{default_file("experiments/baseline_2023.toml")}"\nname = "{name}"\n[journey]\noutside_utility = {value}\n')
    clash = Experiment("clash", arms=(Arm("x", scenario=(tmp_path / "a.toml", tmp_path / "b.toml")),), replicates=1)
    with pytest.raises(ScenarioError, match="must not disagree") as err:
        plan(clash)
    assert err.value.key == "journey.outside_utility"


def test_window_differences_average_monthly_series_over_the_window() -> None:
    months = pd.date_range("2023-01-01", periods=4, freq="MS")
    rows = []
    for rep, noise in enumerate((0.0, 1.0, 2.0)):
        for m, base, treat in zip(months, (10, 10, 10, 10), (10, 10, 12, 14), strict=True):
            rows.append({"arm": "b", "replicate": rep, "month": m, "x": base + noise})
            rows.append({"arm": "t", "replicate": rep, "month": m, "x": treat + noise})
    table = stats.window_differences(pd.DataFrame(rows), ["x"], "b", start="2023-03-01").iloc[0]
    assert table["months"] == 2 and table["diff"] == pytest.approx(3.0) and table["ci_high"] - table["ci_low"] < 1e-9
    assert stats.window_differences(pd.DataFrame(rows), ["x"], "b").iloc[0]["diff"] == pytest.approx(1.5)


# --- statistics ------------------------------------------------------------------------------


def _runs(rows: list[tuple[str, int, float]]) -> pd.DataFrame:
    return pd.DataFrame([{"arm": a, "replicate": r, "status": "done", "k": v} for a, r, v in rows])


def test_t_interval_matches_hand_computation() -> None:
    mean, sd, lo, hi = stats.t_interval(np.array([1.0, 2.0, 3.0, 4.0]))
    assert mean == 2.5 and sd == pytest.approx(1.2909944)
    half = 3.182446305284263 * 1.2909944487358056 / 2  # t(0.975, 3) * sd / sqrt(4)
    assert (lo, hi) == pytest.approx((2.5 - half, 2.5 + half))


def test_paired_difference_uses_same_replicates_and_ignores_failures() -> None:
    runs = _runs([("b", 0, 10), ("b", 1, 20), ("b", 2, 30), ("t", 0, 11), ("t", 1, 22), ("t", 2, 33), ("t", 3, 99)])
    runs.loc[len(runs)] = {"arm": "b", "replicate": 3, "status": "failed", "k": np.nan}
    d = stats.differences(runs, ["k"], baseline="b").iloc[0]
    assert d["n"] == 3  # replicate 3 has no finished baseline run
    assert d["diff"] == pytest.approx(2.0)  # (1 + 2 + 3) / 3
    assert d["rel_diff"] == pytest.approx(2.0 / 20.0)
    half = 4.302652729911275 * 1.0 / math.sqrt(3)  # t(0.975, 2) * sd(1,2,3) / sqrt(3)
    assert (d["ci_low"], d["ci_high"]) == pytest.approx((2 - half, 2 + half))
    assert not d["significant"]


def test_breach_probabilities_absolute_and_relative_to_baseline() -> None:
    runs = _runs([("b", i, 100.0) for i in range(4)] + [("t", i, v) for i, v in enumerate([70.0, 85.0, 79.0, 100.0])])
    th = (Threshold("k", ">", 90.0), Threshold("k", "<", -0.20, relative=True))
    table = stats.breach_probabilities(runs, th, baseline="b").set_index(["arm", "threshold"])
    assert table.loc[("b", "k > 90"), "probability"] == 1.0
    assert table.loc[("t", "k > 90"), "probability"] == 0.25
    rel = table.loc[("t", "k change vs baseline < -20%")]
    assert rel["breaches"] == 2 and rel["probability"] == 0.5  # 70 and 79 fell by more than 20%
    assert 0 < rel["ci_low"] < 0.5 < rel["ci_high"] < 1


def test_expected_shortfall_is_mean_of_the_worst_tail() -> None:
    runs = _runs([("a", i, float(v)) for i, v in enumerate(range(1, 21))])
    es = stats.expected_shortfall(runs, "k", alpha=0.1).iloc[0]
    assert es["n_tail"] == 2 and es["expected_shortfall"] == 1.5
    assert es["value_at_risk"] == pytest.approx(np.quantile(np.arange(1, 21), 0.1))


def test_months_to_recover_from_monthly_series() -> None:
    months = pd.date_range("2023-01-01", periods=6, freq="MS")
    base = [0.0] + [100.0] * 5  # an empty first month: equal zeros are inside the band
    shocked = [0.0, 70.0, 80.0, 90.0, 99.0, 101.0]  # out of ±5% in Feb-Apr, back from May
    never = [0.0, 100.0, 60.0, 60.0, 60.0, 60.0]
    rows = []
    for arm, series in (("b", base), ("s", shocked), ("n", never)):
        rows += [{"arm": arm, "replicate": 0, "month": m, "x": v} for m, v in zip(months, series, strict=True)]
    rec = stats.months_to_recover(pd.DataFrame(rows), "x", baseline="b", tolerance=0.05, smooth=1).set_index("arm")
    assert rec.loc["s", "shock_month"] == months[1] and rec.loc["s", "months"] == 3 and rec.loc["s", "recovered"]
    assert not rec.loc["n", "recovered"] and math.isnan(rec.loc["n", "months"])
    # a one-month blip inside a 3-month mean stays within a 10% band: noise is not a shock
    blip = [{"arm": a, "replicate": 0, "month": m, "x": v} for a, series in (("b", [100.0] * 6), ("s", [100, 100, 80, 100, 100, 100])) for m, v in zip(months, series, strict=True)]
    smoothed = stats.months_to_recover(pd.DataFrame(blip), "x", baseline="b", tolerance=0.10, smooth=3).iloc[0]
    assert pd.isna(smoothed["shock_month"]) and smoothed["months"] == 0


# --- engine with a stand-in runner --------------------------------------------------------


def test_experiment_table_has_one_row_per_arm_and_replicate_and_finds_the_effect() -> None:
    result = run_experiment(two_arm(), workers=1, progress=False)
    runs = result.runs
    assert list(runs["arm"]) == ["baseline"] * 4 + ["up"] * 4
    assert list(runs["replicate"]) == [0, 1, 2, 3] * 2
    assert (runs["status"] == "done").all()
    d = result.differences(["market.total_sales"]).iloc[0]
    # fake effect: 10 x (0.2 - baseline nev_wtp_mean); the seed noise cancels because seeds are common
    base_a = plan(two_arm())[0].scenario.population.nev_wtp_mean
    assert d["diff"] == pytest.approx(10 * (0.2 - base_a), abs=1e-9)
    assert d["ci_high"] - d["ci_low"] < 1e-9
    long = result.kpis_long()
    assert set(long.columns) == {"arm", "replicate", "seed", "id", "value"} and len(long) == 16
    assert len(result.monthly) == 8 * 3 and {"arm", "replicate", "seed", "month"} <= set(result.monthly.columns)


def test_failed_run_is_recorded_and_the_rest_go_on(tmp_path: Path) -> None:
    exp = Experiment(
        "failing",
        arms=(Arm("baseline"), Arm("bad", params={"population.nev_wtp_mean": 0.9}), Arm("good", params={"population.nev_wtp_mean": 0.2})),
        replicates=2,
        runner=failing_runner,
        **SMALL,
    )
    result = run_experiment(exp, out=tmp_path, workers=1, progress=False)
    status = result.runs.set_index("run_id")["status"]
    assert (status.filter(like="bad/") == "failed").all()
    assert (status.drop(status.filter(like="bad/").index) == "done").all()
    assert result.failures()["error"].str.contains("boom in the model").all()
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["runs"]["bad/r00001"]["status"] == "failed"
    assert "boom in the model" in manifest["runs"]["bad/r00001"]["error"]
    assert manifest["runs"]["good/r00000"]["version"] == simsales.__version__ and manifest["runs"]["good/r00000"]["file"]
    assert manifest["status"] == {"done": 4, "failed": 2}
    # re-running retries only the failed runs (still failing here); finished files are not rewritten
    before = {p: p.stat().st_mtime_ns for p in (tmp_path / "runs").rglob("*.parquet")}
    again = run_experiment(exp, out=tmp_path, workers=1, progress=False)
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "runs").rglob("*.parquet")} == before
    assert (again.runs["status"] == "failed").sum() == 2


def test_directory_store_resumes_and_ignores_runs_of_a_changed_scenario(tmp_path: Path) -> None:
    first = run_experiment(two_arm(replicates=2), out=tmp_path, workers=1, progress=False)
    files = sorted((tmp_path / "runs").rglob("*.parquet"))
    assert len(files) == 4
    # more replicates: the first two are read back, not re-run
    stamps = {p: p.stat().st_mtime_ns for p in files}
    more = run_experiment(two_arm(replicates=3), out=tmp_path, workers=1, progress=False)
    assert {p: p.stat().st_mtime_ns for p in files} == stamps
    pd.testing.assert_frame_equal(more.runs[more.runs["replicate"] < 2].reset_index(drop=True), first.runs)
    # a changed arm (other scenario hash) is run again
    changed = two_arm(replicates=3, arms=(Arm("baseline"), Arm("up", params={"population.nev_wtp_mean": 0.25})))
    run_experiment(changed, out=tmp_path, workers=1, progress=False)
    assert all(p.stat().st_mtime_ns == stamps[p] for p in files if "baseline" in p.parts)
    assert all(p.stat().st_mtime_ns != stamps[p] for p in files if "up" in p.parts)


def test_directory_store_refuses_another_experiment_and_a_live_lock(tmp_path: Path) -> None:
    run_experiment(two_arm(replicates=1), out=tmp_path, workers=1, progress=False)
    with pytest.raises(ValueError, match="holds experiment 'fake'"):
        run_experiment(two_arm(name="other", replicates=1), out=tmp_path, workers=1, progress=False)
    (tmp_path / "lock").write_text("1")  # pid 1 is alive: someone else is writing here
    with pytest.raises(RuntimeError, match="in use by process 1"):
        DirectoryStore(tmp_path).open({"name": "fake"}, plan(two_arm(replicates=1)))
    (tmp_path / "lock").write_text("999999999")  # a dead writer's lock is taken over
    DirectoryStore(tmp_path).open({"name": "fake"}, plan(two_arm(replicates=1)))


def test_memory_store_and_directory_store_give_identical_tables(tmp_path: Path) -> None:
    mem = run_experiment(two_arm(), out=MemoryStore(), workers=1, progress=False)
    disk = run_experiment(two_arm(), out=tmp_path, workers=1, progress=False)
    reread = run_experiment(two_arm(), out=tmp_path, workers=1, progress=False)  # everything from files
    cols = [c for c in mem.runs.columns if c != "seconds"]
    pd.testing.assert_frame_equal(mem.runs[cols], disk.runs[cols], check_exact=True)
    pd.testing.assert_frame_equal(disk.runs, reread.runs, check_exact=True)
    pd.testing.assert_frame_equal(mem.monthly, reread.monthly, check_exact=True)
    stored = pd.read_parquet(tmp_path / "kpis.parquet")
    pd.testing.assert_frame_equal(stored, reread.runs, check_exact=True)


def test_adaptive_replicates_stop_when_intervals_are_narrow_or_at_the_cap() -> None:
    # the fake effect has almost no noise: 2 replicates already give a narrow interval
    narrow = run_experiment(
        two_arm(replicates=2, adaptive=Adaptive(max_replicates=10, batch=2, target_width={"market.total_sales": 0.1})),
        workers=1,
        progress=False,
    )
    assert narrow.runs["replicate"].max() + 1 == 2
    # an impossible target adds batches up to the cap
    capped = run_experiment(
        two_arm(replicates=2, adaptive=Adaptive(max_replicates=6, batch=2, target_width={"market.total_sales": 0.0})),
        workers=1,
        progress=False,
    )
    assert capped.runs["replicate"].max() + 1 == 6
    assert len(capped.seeds) == 6 and capped.seeds == replicate_seeds(2023, 6)
    exp = two_arm(replicates=2, adaptive=Adaptive(max_replicates=6, batch=2))
    assert exp.with_size(max_replicates=2).adaptive.max_replicates == 2
    assert exp.with_size(replicates=8).adaptive.max_replicates == 8


def test_ensemble_draws_are_shared_across_arms_and_applied() -> None:
    ensemble = pd.DataFrame(
        {"journey.outside_utility": [0.5, 1.0, 1.5, 2.0], "population.nev_wtp_mean": [0.0, 0.1, 0.2, 0.3], "weight": [1, 1, 1, 0], "distance": 0}
    )
    exp = two_arm(replicates=12, ensemble=ensemble)
    tasks = plan(exp)
    members = {arm: [t.ensemble_member for t in tasks if t.arm == arm] for arm in ("baseline", "up")}
    assert members["baseline"] == members["up"]
    assert 3 not in members["baseline"]  # zero weight is never drawn
    assert len(set(members["baseline"])) > 1
    for t in tasks:
        assert t.scenario.journey.outside_utility == ensemble["journey.outside_utility"][t.ensemble_member]
        expected_a = 0.2 if t.arm == "up" else ensemble["population.nev_wtp_mean"][t.ensemble_member]
        assert t.scenario.population.nev_wtp_mean == expected_a  # the arm's own override wins
    assert [draw_member(ensemble, 2023, i) for i in range(5)] == members["baseline"][:5]
    result = run_experiment(exp, workers=1, progress=False)
    assert list(result.runs["ensemble_member"][:12]) == members["baseline"]
    with pytest.raises(ScenarioError, match="no dotted parameter columns"):
        plan(two_arm(ensemble=pd.DataFrame({"weight": [1.0]})))


def test_sobol_and_morris_rank_parameters_of_a_known_function() -> None:
    params = {
        "population.nev_wtp_mean": (0.0, 1.0),  # effect 10
        "journey.outside_utility": (0.0, 1.0),  # effect 1
        "journey.research_dropout": (0.0, 0.5),  # no effect
    }
    for method, n in (("sobol", 32), ("morris", 8)):
        design = SensitivityDesign(method, params, n=n, seed=3)
        exp = Experiment(f"sa_{method}", arms=tuple(design.arms()), replicates=1, sensitivity=design, runner=fake_runner, **SMALL)
        assert len(exp.arms) == design.n_points
        result = run_experiment(exp, workers=1, progress=False)
        indices = result.sensitivity_indices(["market.total_sales"])
        ranking = design.ranking(indices)
        assert list(ranking["parameter"]) == list(params)
        if method == "sobol":
            st_ = indices.set_index("parameter")["ST"]
            assert st_["population.nev_wtp_mean"] > 0.9 and st_["journey.research_dropout"] < 0.02


def test_spec_ensemble_from_the_calibration_loader_or_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import simsales.calibration

    members = pd.DataFrame({"candidate": [4, 9], "objective": [1.0, 1.2], "journey.outside_utility": [1.1, 1.4], "weight": [0.5, 0.5]})
    monkeypatch.setattr(simsales.calibration, "load_ensemble", lambda: members)
    head = 'name = "ens"\nreplicates = 3\n[[arms]]\nname = "a"\n[ensemble]\n'
    exp = load_experiment(_write(tmp_path, head + 'source = "calibration"\n'))
    pd.testing.assert_frame_equal(exp.ensemble, members)
    assert {t.scenario.journey.outside_utility for t in plan(exp)} <= {1.1, 1.4}
    members.to_csv(tmp_path / "members.csv", index=False)
    from_file = load_experiment(_write(tmp_path, head + 'source = "members.csv"\n'))
    assert [t.scenario_hash for t in plan(from_file)] == [t.scenario_hash for t in plan(exp)]

    def missing() -> pd.DataFrame:
        raise FileNotFoundError(2, "No such file", "calibration/ensemble_2023.parquet")

    monkeypatch.setattr(simsales.calibration, "load_ensemble", missing)
    with pytest.raises(ScenarioError, match="no calibration ensemble found") as err:
        load_experiment(_write(tmp_path, head + 'source = "calibration"\n'))
    assert err.value.key == "ensemble.source"


# --- spec files ------------------------------------------------------------------------------


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "exp_test.toml"
    path.write_text(text)
    return path


def test_spec_file_builds_the_same_experiment_as_python(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
name = "fake"
replicates = 4
[run]
n_consumers = 5000
days = 60
warmup_days = 60
[smoke]
replicates = 2
n_consumers = 3000
[[arms]]
name = "baseline"
[[arms]]
name = "up"
params = { "population.nev_wtp_mean" = 0.2 }
[[thresholds]]
kpi = "inventory.stock_coefficient"
above = 1.5
""",
    )
    exp = load_experiment(path)
    python = two_arm(runner=None, thresholds=(Threshold("inventory.stock_coefficient", ">", 1.5),), source=str(path))
    assert exp == python
    assert [t.scenario_hash for t in plan(exp)] == [t.scenario_hash for t in plan(python)]
    smoke = load_experiment(path, smoke=True)
    assert smoke.replicates == 2 and smoke.n_consumers == 3000 and smoke.days == 60


def test_spec_sample_design_gives_one_arm_per_point(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        'name = "lhs"\nreplicates = 2\n[sample]\nmethod = "lhs"\nn = 4\nseed = 5\n'
        '[sample.parameters]\n"journey.outside_utility" = [1.0, 2.0]\n"population.nev_wtp_mean" = [0.05, 0.2]\n',
    )
    exp = load_experiment(path)
    assert [a.name for a in exp.arms] == ["lhs0000", "lhs0001", "lhs0002", "lhs0003"]
    assert [dict(a.params) for a in exp.arms] == [dict(a.params) for a in latin_hypercube({"journey.outside_utility": (1.0, 2.0), "population.nev_wtp_mean": (0.05, 0.2)}, 4, 5)]
    values = sorted(t.scenario.journey.outside_utility for t in plan(exp) if t.replicate == 0)
    assert len(values) == 4 and 1.0 <= values[0] < values[-1] <= 2.0


@pytest.mark.parametrize(
    ("text", "key", "message"),
    [
        ('name = "x"\nreplicate = 3\n[[arms]]\nname = "a"', "replicate", "did you mean 'replicates'"),
        ('name = "x"\n[[arms]]\nname = "a"\n[factors.f.l]\n', None, "exactly one design"),
        ('name = "x"\n[[arms]]\nname = "a"\nscenario = "missing.toml"', "arms[0].scenario", "file not found"),
        ('name = "x"\nkpis = ["market.total_sale"]\n[[arms]]\nname = "a"', "kpis[0]", "did you mean 'market.total_sales'"),
        ('name = "x"\nbaseline = "b"\n[[arms]]\nname = "a"', "baseline", "is not an arm"),
        ('name = "x"\n[[arms]]\nname = "a"\n[[thresholds]]\nkpi = "market.nev_share"', "thresholds[0]", "exactly one of"),
        ('name = "x"\n[sensitivity]\nmethod = "fast"\n[sensitivity.parameters]\n"a.b" = [0, 1]\n"c.d" = [0, 1]', "sensitivity.method", "allowed: sobol, morris"),
    ],
)
def test_bad_spec_files_fail_with_file_and_key(tmp_path: Path, text: str, key: str | None, message: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ScenarioError, match=message) as err:
        load_experiment(path)
    assert err.value.file == str(path)
    assert err.value.key == key


def test_bad_override_fails_before_any_run() -> None:
    exp = two_arm(arms=(Arm("baseline"), Arm("bad", params={"journey.research_dropout": 1.5})))
    with pytest.raises(ScenarioError, match="arm 'bad'") as err:
        run_experiment(exp, workers=1, progress=False)
    assert err.value.key == "journey.research_dropout"
