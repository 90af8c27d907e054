"""Warm-started experiments: the arms of a replicate share one warm-up and give the cold numbers."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from simsales.experiments import Arm, Experiment, run_experiment
from simsales.experiments import warm as warm_module
from simsales.experiments.engine import plan
from simsales.experiments.warm import FOLDER, plan_warm_starts


def _experiment() -> Experiment:
    arms = (
        Arm("baseline"),
        Arm("price_war", scenario="shock_price_war_nev"),
        Arm("ai_cs", scenario="strategy_ai_customer_service"),
    )
    return Experiment("warm", arms=arms, replicates=2, n_consumers=1_500, warmup_days=30, days=420, root_seed=5)


@pytest.fixture(scope="module")
def cold(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Every arm simulated from day 0."""
    return run_experiment(_experiment(), out=tmp_path_factory.mktemp("cold"), workers=1, progress=False, warm_start=False)


def test_warm_and_cold_experiments_give_identical_tables(tmp_path: Path, cold) -> None:  # type: ignore[no-untyped-def]
    warm = run_experiment(_experiment(), out=tmp_path / "warm", workers=2, progress=False)
    columns = ["arm", "replicate", "seed", *_experiment().kpis]
    pd.testing.assert_frame_equal(warm.runs[columns], cold.runs[columns])
    pd.testing.assert_frame_equal(warm.monthly, cold.monthly)
    assert not (tmp_path / "warm" / FOLDER).exists()  # a finished experiment drops its snapshots
    # the shared warm-up ran up to the first event of any arm (the AI service, 2024-01-01 here),
    # less the days ahead consumers foresee announced changes
    tasks = plan(_experiment())
    jobs, rewired = plan_warm_starts(tasks, tmp_path / "plan")
    assert len(jobs) == 2 and all(isinstance(t.runner, warm_module.WarmRunner) for t in rewired)
    assert {job.day for job in jobs} == {30 + 365 - tasks[0].scenario.population.anticipation_days}


def test_a_resumed_experiment_reuses_its_stored_warm_ups(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cold) -> None:  # type: ignore[no-untyped-def]
    """A killed experiment finds its warm-ups under the results folder and does not redo them."""
    out = tmp_path / "exp"
    jobs, _ = plan_warm_starts(plan(_experiment()), out)
    for job in jobs:  # what a run killed after its warm-ups leaves behind
        warm_module.make_warm_up(job)
    assert all(job.ready() for job in jobs)

    def no_new_warm_ups(*args: object, **kwargs: object) -> None:
        raise AssertionError("a stored warm-up was simulated again")

    monkeypatch.setattr(warm_module, "warm_up", no_new_warm_ups)
    resumed = run_experiment(_experiment(), out=out, workers=1, progress=False)
    pd.testing.assert_frame_equal(resumed.monthly, cold.monthly)


def test_arms_acting_from_day_0_run_cold_and_the_others_still_share(tmp_path: Path) -> None:
    """A store-network arm has its new stores from construction: it cannot share, the rest still do."""
    arms = (*_experiment().arms, Arm("stores", scenario="strategy_store_network"))
    exp = Experiment("warm", arms=arms, replicates=2, n_consumers=1_500, warmup_days=30, days=420, root_seed=5)
    jobs, rewired = plan_warm_starts(plan(exp), tmp_path)
    assert len(jobs) == 2
    by_arm = {(t.arm, t.replicate): t.runner for t in rewired}  # type: ignore[attr-defined]
    assert by_arm[("stores", 0)] is None and by_arm[("stores", 1)] is None
    assert all(isinstance(by_arm[(arm, r)], warm_module.WarmRunner) for arm in ("baseline", "price_war", "ai_cs") for r in (0, 1))
