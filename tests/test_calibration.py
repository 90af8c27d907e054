"""Calibration engine: objective, parameter recovery, target perturbation, checkpoint resume, outputs.

Small models and tiny budgets keep this file short; the statistical claims rely on common random
numbers (same seeds => same KPIs), not on large samples.  A run's cost is almost all per simulated
day (20,000 and 50,000 consumers cost about the same per day), so the fits use many consumers, few
days and two seeds: 2 x 50,000 consumers x 60 recorded days is about as much sampled behaviour as
the 3 x 20,000 x 90 days used before, at 55% of the simulated days.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from simsales import run
from simsales.calibration import (
    CalibrationInterrupted,
    HuberLoss,
    Objective,
    QuadraticLoss,
    build_setup,
    load_parameters,
    load_target_set,
    load_unfitted_scenario,
    search,
)
from simsales.calibration.engine import STUDY, Runner
from simsales.calibration.targets import TargetSet
from simsales.runs import DirectoryStore
from simsales.scenario import ScenarioError

N = 50000
SEEDS = (1, 2)
FIT_KPIS = ["market.total_sales", "journey.test_drive_to_order", "journey.lead_conversion", "journey.store_visits",
            "journey.online_lead_capture"]
TRUTH = {"journey.outside_utility": 2.0, "journey.showroom_sessions": 45.0}
PARAMS_TOML = """
[parameters."journey.outside_utility"]
low = 0.8
high = 2.4

[parameters."journey.showroom_sessions"]
low = 15
high = 60
scale = "log"
"""


@pytest.fixture(scope="module")
def small() -> object:
    """The hand-set baseline shortened to 60 warm-up and 60 recorded days."""
    return load_unfitted_scenario().replace(**{"run.warmup_days": 60, "run.days": 60})


@pytest.fixture(scope="module")
def short(small: object) -> object:
    """30 warm-up and 30 recorded days: for checkpoint bookkeeping, which does not depend on the KPIs' precision."""
    return small.replace(**{"run.warmup_days": 30, "run.days": 30})


@pytest.fixture(scope="module")
def params_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("params") / "params.toml"
    path.write_text(PARAMS_TOML)
    return str(path)


def mean_kpis(scenario: object, params: dict[str, float], seeds: tuple[int, ...] = SEEDS) -> pd.Series:
    """Seed-mean KPIs of runs of the small model."""
    frames = [run(scenario, seed=s, n_consumers=N, params=params).kpis.set_index("id")["value"] for s in seeds]
    return pd.concat(frames, axis=1).mean(axis=1)


def synthetic_targets(values: pd.Series, tolerance: float = 0.1, shift: dict[str, float] | None = None) -> TargetSet:
    """A target set made from model output (optionally with some targets multiplied by `shift`)."""
    shift = shift or {}
    frame = pd.DataFrame(
        {"kpi": FIT_KPIS, "value": [values[k] * shift.get(k, 1.0) for k in FIT_KPIS], "tolerance": tolerance, "weight": 1.0},
        index=pd.Index(FIT_KPIS, name="id"),
    )
    for col in ("unit", "section", "metric", "note", "kind", "miss_reason"):
        frame[col] = ""
    return TargetSet(frame, (), "synthetic")


@pytest.fixture(scope="module")
def truth_kpis(small: object) -> pd.Series:
    return mean_kpis(small, TRUTH)


def open_store(folder: object) -> DirectoryStore:
    """A calibration checkpoint folder, opened as `calibrate()` opens it."""
    store = DirectoryStore(folder)
    store.open(STUDY)
    return store


def fit(small: object, params_file: str, targets: TargetSet, folder: object, budget: int = 17) -> tuple[object, object]:
    setup = build_setup(scenario=small, parameters=params_file, targets=targets, seeds=SEEDS, n_consumers=N,
                        budget=budget, explore=8, batch=4)
    store = open_store(folder)
    try:
        return setup, search(setup, Runner(setup, store))
    finally:
        store.close()


# --- objective ---------------------------------------------------------------------------------


def test_objective_is_zero_when_targets_are_a_runs_kpis(small: object, params_file: str, truth_kpis: pd.Series, tmp_path: object) -> None:
    """Targets equal to the KPIs of a parameter set on the same seeds give objective exactly 0 there, > 0 elsewhere."""
    targets = synthetic_targets(truth_kpis)
    setup = build_setup(scenario=small, parameters=params_file, targets=targets, seeds=SEEDS, n_consumers=N, budget=1)
    setup.start = setup.space.to_unit(np.array([TRUTH[k] for k in setup.space.keys]))
    result = search(setup, Runner(setup, open_store(tmp_path)))
    assert result.candidates["objective"].iloc[0] == 0.0
    other = mean_kpis(small, {"journey.outside_utility": 1.2, "journey.showroom_sessions": 25.0})
    z = setup.objective.residuals(other[FIT_KPIS].to_numpy())
    assert setup.objective.from_residuals(z) > 0.1


def test_losses_and_nan_handling() -> None:
    """Huber is quadratic inside the tolerance and linear outside; a NaN KPI is charged, not ignored."""
    z = np.array([0.5, -2.0, 4.0])
    assert np.allclose(QuadraticLoss()(z), [0.25, 4.0, 16.0])
    assert np.allclose(HuberLoss(1.0)(z), [0.25, 3.0, 7.0])
    targets = synthetic_targets(pd.Series(dict.fromkeys(FIT_KPIS, 10.0)))
    obj = Objective(targets, QuadraticLoss())
    per_seed = np.full((2, len(FIT_KPIS)), 10.0)
    assert obj(per_seed) == 0.0
    per_seed[0, 0] = np.nan  # one seed missing: the other seed's value is used
    assert obj(per_seed) == 0.0
    per_seed[1, 0] = np.nan  # no seed measures it: penalised
    assert obj(per_seed) > 1.0


# --- recovery and perturbation -----------------------------------------------------------------


@pytest.fixture(scope="module")
def recovery(small: object, params_file: str, truth_kpis: pd.Series, tmp_path_factory: pytest.TempPathFactory) -> tuple[object, object, object]:
    """A 17-candidate fit of the two parameters to targets the model produced at TRUTH, and its checkpoint folder."""
    folder = tmp_path_factory.mktemp("recovery")
    return (*fit(small, params_file, synthetic_targets(truth_kpis), folder), folder)


@pytest.mark.slow
def test_recovers_known_parameters(recovery: tuple[object, object, object]) -> None:
    """Targets produced by the model at known parameters are fitted back to within 10% of each (log) range.

    With sampler seeds 0, 1 and 2 the fitted values landed within 2.2% of the range of the truth
    (2 seeds x 50,000 consumers x 60 days; 2% with 3 x 20,000 x 90 days before); 10% leaves room
    for platform differences.  The start point is 30-40% of the range away.  Targets made at
    outside_utility 1.4 instead of 2.0 fail this test.
    """
    setup, result, _ = recovery
    fitted = result.overrides(result.best)
    for p, true_unit in zip(setup.space.parameters, setup.space.to_unit(np.array([TRUTH[k] for k in setup.space.keys])), strict=True):
        assert abs(float(p.to_unit(fitted[p.key])) - true_unit) <= 0.1, (p.key, fitted[p.key], TRUTH[p.key])
    objective = result.candidates["objective"]
    assert objective.min() < 1.0 < objective.iloc[0]


@pytest.mark.slow
def test_perturbed_target_moves_the_fit_not_the_output(small: object, params_file: str, truth_kpis: pd.Series,
                                                       recovery: tuple[object, object, object]) -> None:
    """Raising the lead-capture target lowers the fitted showroom sessions; outputs stay what the model computes.

    The fit resumes in the recovery fit's checkpoint: a run's KPIs depend on its parameters, seed
    and size, never on the targets, so candidates both fits propose (the start point and the
    Sobol exploration) are read back instead of run again.
    """
    _, base, folder = recovery
    shifted_targets = synthetic_targets(truth_kpis, shift={"journey.online_lead_capture": 1.25})
    _setup, moved = fit(small, params_file, shifted_targets, folder, budget=13)
    # capture = leads / sessions: 25% more capture needs about 20% fewer sessions; the fitted ratio
    # was 0.84, 0.80 and 0.83 with sampler seeds 0, 1 and 2 (a target lowered by 20% fails this test)
    key = "journey.showroom_sessions"
    assert moved.overrides(moved.best)[key] < 0.9 * base.overrides(base.best)[key]
    # the output for given parameters does not depend on the targets: rerunning either fitted
    # candidate reproduces its stored KPIs exactly, and the sales are not the target value
    kpi = "journey.online_lead_capture"
    for result in (moved, base):
        stored = result.per_seed_kpis[result.best].loc[1, kpi]
        rerun = run(small, seed=1, n_consumers=N, params=result.overrides(result.best)).kpi(kpi)
        assert stored == rerun
    assert moved.per_seed_kpis[moved.best][kpi].mean() != shifted_targets.frame.at[kpi, "value"]


# --- checkpointing -----------------------------------------------------------------------------


def test_interrupted_search_resumes_without_losing_or_repeating_runs(short: object, params_file: str, truth_kpis: pd.Series, tmp_path: object) -> None:
    """Stop twice mid-batch, resume: the same runs, each once, and the same result as an uninterrupted search."""
    targets = synthetic_targets(truth_kpis)

    def make(stop: int | None, folder: object) -> tuple[object, DirectoryStore, Runner]:
        setup = build_setup(scenario=short, parameters=params_file, targets=targets, seeds=(1, 2), n_consumers=5000,
                            budget=8, explore=4, batch=3)
        store = open_store(folder)
        return setup, store, Runner(setup, store, stop_after=stop)

    setup, store, runner = make(None, tmp_path / "straight")
    straight = search(setup, runner)
    store.close()
    for stop in (5, 4):
        setup, store, runner = make(stop, tmp_path / "resumed")
        with pytest.raises(CalibrationInterrupted):
            search(setup, runner)
        store.close()
        assert runner.new_runs == stop
    assert len(list((tmp_path / "resumed" / "runs").rglob("*.parquet"))) == 9
    setup, store, runner = make(None, tmp_path / "resumed")
    resumed = search(setup, runner)
    store.close()
    assert runner.new_runs == 8 * 2 - 9
    assert len(list((tmp_path / "resumed" / "runs").rglob("*.parquet"))) == 8 * 2
    assert json.loads((tmp_path / "resumed" / "manifest.json").read_text())["status"] == {"done": 8 * 2}
    pd.testing.assert_frame_equal(resumed.candidates, straight.candidates)


# --- files and validation ----------------------------------------------------------------------


def test_shipped_parameter_and_target_files_are_valid() -> None:
    """The 2023 parameter file fits the baseline's schema and the targets name registered KPIs."""
    scenario = load_unfitted_scenario()
    space = load_parameters()
    space.validate(scenario)
    assert 10 <= space.dim <= 20  # 18: journey.quote_search_value (conversion at 4S against direct stores); 20: domestic 4S response time and the spread of response times (stores below 15% online conversion)
    targets = load_target_set()
    assert len(targets) >= 35
    assert {"market.total_sales_yoy", "market.nev_sales_yoy", "market.bev_sales_yoy", "market.phev_sales_yoy"} <= set(targets.ids)
    source = targets.frame["section"] != "literature"
    assert all(targets.frame.loc[source, "tolerance"] <= 0.15)  # the source's figures: +-10% or +-15%
    # the literature's elasticity range -2 .. -6.5 as value and tolerance
    elasticity = targets.frame.loc["pricing.product_price_elasticity"]
    assert elasticity["value"] * (1 - elasticity["tolerance"]) == pytest.approx(-2.0, abs=1e-3)
    assert elasticity["value"] * (1 + elasticity["tolerance"]) == pytest.approx(-6.5, abs=1e-3)
    assert targets.conflicts


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('[parameters."journey.outside_utilty"]\nlow = 0\nhigh = 1\n', "outside_utilty"),
        ('[parameters."journey.outside_utility"]\nlow = 2\nhigh = 1\n', "must be below"),
        ('[parameters."journey.showroom_sessions"]\nlow = 0\nhigh = 10\nscale = "log"\n', "low > 0"),
        ('[parameters."journey.research_dropout"]\nlow = 0.1\nhigh = 1.5\n', "out of range"),
        ('[parameters."products.bev_citi.appeal"]\nlow = 0\nhigh = 1\n', "bev_citi"),
    ],
)
def test_bad_parameter_files_are_rejected_before_any_run(tmp_path: object, text: str, fragment: str) -> None:
    """Unknown keys, inverted or invalid bounds raise ScenarioError naming the file and key."""
    path = tmp_path / "p.toml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as err:
        load_parameters(path).validate(load_unfitted_scenario())
    assert fragment in str(err.value)


def test_bad_targets_and_holdout_are_rejected(tmp_path: object) -> None:
    """A target measured by no KPI, or an unknown holdout id, is an error naming it."""
    path = tmp_path / "t.toml"
    path.write_text('[targets."x"]\nkpi = "market.nonsense"\nvalue = 1.0\ntolerance = 0.1\n')
    with pytest.raises(ScenarioError, match=r"market\.nonsense"):
        load_target_set(path)
    with pytest.raises(ScenarioError, match=r"no\.such"):
        load_target_set().split(("no.such",))
    fit_set, held = load_target_set().split(("journey.store_visits",))
    assert "journey.store_visits" not in fit_set.ids and held.ids == ["journey.store_visits"]


# --- the command -------------------------------------------------------------------------------


def test_calibrate_command_writes_a_fit_the_loader_applies(tmp_path: object, params_file: str) -> None:
    """`simsales calibrate` end to end on a tiny model: interrupted, resumed, outputs written and loadable."""
    from simsales.calibration import load_ensemble, load_fitted
    from simsales.cli import main
    from simsales.scenario import load_scenario

    baseline = load_unfitted_scenario()
    tiny = tmp_path / "tiny.toml"
    tiny.write_text(f'extends = "{_baseline_path()}"\n[run]\nwarmup_days = 30\ndays = 30\nn_consumers = 5000\n')
    out = tmp_path / "out"
    args = ["calibrate", "--scenario", str(tiny), "--parameters", params_file, "--budget", "5", "--explore", "3",
            "--batch", "2", "--seeds", "2", "--report-seeds", "2", "--sensitivity-seeds", "1", "--jobs", "1",
            "--holdout", "journey.store_visits", "--out", str(out)]
    assert main([*args, "--stop-after", "3"]) == 3
    assert main(args) == 0
    manifest = json.loads((out / "checkpoint" / "manifest.json").read_text())
    assert set(manifest["status"]) == {"done"} and len(manifest["invocations"]) == 1
    assert len(list((out / "checkpoint" / "runs").rglob("*.parquet"))) == manifest["status"]["done"]
    fitted = load_fitted(out / "fitted_2023.toml")
    assert set(fitted["parameters"]) == set(TRUTH)
    assert fitted["calibration"]["holdout"] == ["journey.store_visits"]
    assert fitted["calibration"]["seeds"] == [1, 2]
    ensemble = load_ensemble(out / "ensemble_2023.parquet")
    assert ensemble.loc[0, "journey.outside_utility"] == fitted["parameters"]["journey.outside_utility"]
    report = (out / "report.md").read_text()
    assert "journey.store_visits" in report and "(holdout)" in report
    assert all((out / "figures" / f).exists() for f in ("fit_dotplot.png", "convergence.png", "identification.png"))
    scenario_file = tmp_path / "fitted.toml"
    scenario_file.write_text(f'extends = "{tiny}"\nfitted = "{out / "fitted_2023.toml"}"\n')
    applied = load_scenario(scenario_file)
    assert applied.journey.outside_utility == fitted["parameters"]["journey.outside_utility"]
    assert baseline.journey.outside_utility != applied.journey.outside_utility


def _baseline_path() -> str:
    from simsales._paths import default_scenario_path

    return str(default_scenario_path())


# --- analysis helpers --------------------------------------------------------------------------


def test_conflicts_are_found_where_targets_pull_apart() -> None:
    """Two targets met on opposite sides of one parameter are flagged; an unrelated one is not."""
    from simsales.calibration.conflicts import local_tradeoffs, never_jointly

    u = np.linspace(0, 1, 60)
    z = pd.DataFrame({"a": (u - 0.25) * 4, "b": (u - 0.75) * 4, "c": np.cos(7 * u) * 0.8})
    found = never_jointly(z)
    assert [tuple(r) for r in found[["a", "b"]].to_numpy()] == [("a", "b")]
    jac = pd.DataFrame({"p": [4.0, 4.0, 0.0]}, index=["a", "b", "c"])
    local = local_tradeoffs(pd.Series({"a": 1.5, "b": -1.5, "c": 0.2}), jac, np.array([0.5]))
    assert [tuple(r) for r in local[["a", "b"]].to_numpy()] == [("a", "b")]
    assert local["best_joint"].iloc[0] == pytest.approx(1.5)  # the midpoint: each 1.5 tolerances off
    assert local["best_alone_a"].iloc[0] == pytest.approx(0.5)  # the neighbourhood ends 0.25 from the fit


def test_polish_brings_in_the_missed_targets_the_linear_model_can_reach() -> None:
    """Three targets on two parameters: `b` (1.4 off) can be brought in by moving p alone, which `a`
    (met) tolerates; `c` (5 off) would need a step beyond the neighbourhood. The step is the smallest
    that does it, with the margin, and every met target stays met."""
    from simsales.calibration.polish import POLISH_MARGIN, accept, propose

    z0 = pd.Series({"a": 0.5, "b": 1.4, "c": 5.0})
    jac = pd.DataFrame({"p": [1.0, 4.0, 0.0], "q": [0.0, 0.0, 2.0]}, index=z0.index)
    x0 = np.array([0.5, 0.5])
    x, brought = propose(z0, jac, x0)
    assert brought == ["b"]
    z = z0.to_numpy() + jac.to_numpy() @ (x - x0)
    assert z[1] == pytest.approx(1.0 - POLISH_MARGIN)  # the smallest step: b lands on the margin
    assert abs(z[0]) <= 1.0 and x[1] == pytest.approx(0.5)  # a stays met; q is not moved for nothing
    # if moving p pushed the met target out, nothing can be brought in
    assert propose(z0, pd.DataFrame({"p": [-4.0, 4.0, 0.0], "q": [0.0, 0.0, 2.0]}, index=z0.index), x0) is None
    # kept only with more targets met and an objective within two standard errors
    assert accept(47, 46, 0.80, 0.78, 0.02) and not accept(47, 46, 0.90, 0.78, 0.02) and not accept(46, 46, 0.5, 0.78, 0.02)


def test_ensemble_keeps_candidates_indistinguishable_from_the_best(tmp_path: object) -> None:
    """Paired test over common seeds: a candidate worse on every seed is rejected, a noisy tie is kept."""
    from simsales.calibration.ensemble import accept, ensemble_frame, load_ensemble, sample_ensemble

    cands = pd.DataFrame({
        "objective": [1.0, 1.05, 2.0],
        "seed_objectives": [[1.0, 0.8, 1.2], [1.3, 0.7, 1.15], [2.0, 1.9, 2.1]],
        "journey.k": [0.1, 0.2, 0.9],
    }, index=["c0", "c1", "c2"])
    assert accept(cands).to_dict() == {"c0": True, "c1": True, "c2": False}
    frame = ensemble_frame(cands, ["journey.k"])
    assert list(frame["candidate"]) == ["c0", "c1"] and frame["weight"].sum() == pytest.approx(1.0)
    frame.to_parquet(tmp_path / "e.parquet", index=False)
    loaded = load_ensemble(tmp_path / "e.parquet")
    draws = sample_ensemble(50, np.random.default_rng(0), loaded)
    assert {d["journey.k"] for d in draws} == {0.1, 0.2}
    # one draw rule for calibration and experiments: without a weight column every member is equally likely
    unweighted = sample_ensemble(400, np.random.default_rng(1), loaded.drop(columns="weight"))
    assert 150 < sum(d["journey.k"] == 0.1 for d in unweighted) < 250
    skewed = loaded.assign(weight=[0.0, 1.0])
    assert {d["journey.k"] for d in sample_ensemble(20, np.random.default_rng(2), skewed)} == {0.2}
