"""The experiment algorithm: plan the runs, skip the finished ones, execute the rest, keep each as it finishes.

`run_experiment` is the one entry point for the Python API and the `simsales experiment`
command.  It knows nothing about files (a `RunStore` keeps runs) or processes (an `Executor`
runs them): the same call works in memory, on a results directory that survives a kill, on all
local cores or on a Dask cluster, and gives the same numbers every time for the same root seed.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simsales.calibration.ensemble import member_params
from simsales.experiments.ensemble import check_ensemble, draw_member
from simsales.experiments.results import ExperimentResult, build_tables
from simsales.experiments.spec import Experiment, check_window, load_arm_scenario, resolve_arm
from simsales.experiments.stats import differences
from simsales.experiments.warm import FOLDER as WARM_FOLDER
from simsales.experiments.warm import make_warm_up, plan_warm_starts
from simsales.runs import (
    STATUS_FAILED,
    DaskExecutor,
    Executor,
    RunOutput,
    RunStore,
    RunTask,
    frame_hash,
    json_hash,
    make_executor,
    make_store,
    needs_run,
    replicate_seeds,
    run_tasks,
    scenario_hash,
    versions,
)
from simsales.scenario import Scenario


class ArmTask(RunTask):
    """A run of an experiment: arm x replicate (labels 'arm', 'replicate', 'ensemble_member')."""

    @property
    def arm(self) -> str:
        """The arm's name."""
        return str(self.labels["arm"])

    @property
    def replicate(self) -> int:
        """The replicate number (the same seed in every arm)."""
        return int(self.labels["replicate"])

    @property
    def ensemble_member(self) -> int | None:
        """Row of the parameter ensemble this replicate uses, if any."""
        return self.labels.get("ensemble_member")


def run_id_for(arm: str, replicate: int) -> str:
    """Stable id of arm x replicate, also its file name under runs/."""
    return f"{arm}/r{replicate:05d}"


def plan(experiment: Experiment, replicates: int | None = None) -> list[ArmTask]:
    """Every arm x replicate task, arms in order; validates every scenario before anything runs.

    Replicate i has the same seed (and ensemble member) in every arm: common random numbers.
    """
    n = experiment.replicates if replicates is None else int(replicates)
    seeds = replicate_seeds(experiment.root_seed, n)
    size = experiment.size_overrides()
    where = experiment.source
    ensemble = experiment.ensemble
    if ensemble is not None:
        check_ensemble(ensemble, where)
    members = [draw_member(ensemble, experiment.root_seed, i) if ensemble is not None else None for i in range(n)]
    bases: dict[str, Scenario] = {}
    resolved: dict[tuple[str, int | None], tuple[Scenario, str]] = {}
    tasks = []
    for arm in experiment.arms:
        if arm.name not in bases:
            bases[arm.name] = load_arm_scenario(arm, where)
        for i in range(n):
            member = members[i]
            key = (arm.name, member)
            if key not in resolved:
                background = member_params(ensemble, member) if ensemble is not None and member is not None else None
                scenario = resolve_arm(arm, size, background, bases[arm.name], where)
                check_window(experiment, scenario, arm.name)
                resolved[key] = (scenario, scenario_hash(scenario))
            scenario, digest = resolved[key]
            labels = {"arm": arm.name, "replicate": i, "ensemble_member": member}
            tasks.append(ArmTask.make(run_id_for(arm.name, i), scenario, seeds[i], labels, digest=digest, runner=experiment.runner))
    return tasks


def run_experiment(
    experiment: Experiment,
    *,
    out: RunStore | str | Path | None = None,
    workers: int | None = None,
    scheduler: Any = None,
    progress: bool = True,
    retry_failed: bool = True,
    executor: Executor | None = None,
    warm_start: bool = True,
) -> ExperimentResult:
    """Run (or resume) an experiment and return its results.

    out: a results directory (resumable, see `DirectoryStore`), a `RunStore`, or None (memory).
    workers: local processes (None = all cores, 1 = this process); scheduler: a Dask `Client`
    or scheduler address, which takes precedence.  Finished runs already in `out` are not run
    again; failed ones are retried unless `retry_failed=False`.  `executor` (any object with
    `map_unordered(fn, tasks)`, `workers` and `close()`) replaces workers/scheduler.
    warm_start: the arms of a replicate share their warm-up up to the first event
    (`simsales.experiments.warm`; identical results, less time); not with a Dask scheduler.
    """
    store = make_store(out)
    executor = executor if executor is not None else make_executor(workers, scheduler)
    n = experiment.replicates
    outputs: dict[str, RunOutput] = {}
    bar = _Progress(experiment.name, progress)
    scratch = tempfile.TemporaryDirectory(prefix="simsales-warmups-") if store.folder is None else None
    warm_folder = Path(scratch.name) if scratch is not None else Path(store.folder)
    try:
        while True:
            tasks = plan(experiment, n)
            stored = store.open(run_meta(experiment, tasks, executor), tasks)
            outputs.update(stored)
            todo = [t for t in tasks if needs_run(outputs.get(t.run_id), retry_failed)]
            bar.extend(len(tasks), len(tasks) - len(todo), sum(o.status == STATUS_FAILED for o in stored.values()))
            if warm_start and not isinstance(executor, DaskExecutor):
                todo = _warm_up(todo, warm_folder, executor)
            outputs.update(run_tasks(todo, store, executor, stored={}, on_output=lambda o: bar.update(o.status == STATUS_FAILED)))
            if not _wants_more(experiment, tasks, outputs, n):
                break
            n = min(n + experiment.adaptive.batch, experiment.adaptive.max_replicates)  # type: ignore[union-attr]
        runs, monthly = build_tables(experiment, tasks, outputs)
        store.write_tables(runs, monthly, {"replicates": n})
        shutil.rmtree(warm_folder / WARM_FOLDER, ignore_errors=True)  # finished: the snapshots are no longer needed
    finally:
        bar.close()
        executor.close()
        store.close()
        if scratch is not None:
            scratch.cleanup()
    meta = run_meta(experiment, tasks, executor)
    return ExperimentResult(experiment=experiment, runs=runs, monthly=monthly, folder=store.folder, meta=meta)


def _warm_up(todo: list[ArmTask], folder: Path, executor: Executor) -> list[ArmTask]:
    """Run the shared warm-ups `todo` needs (reusing stored ones) and return the tasks rewired to them."""
    jobs, rewired = plan_warm_starts(todo, folder)
    missing = [job for job in jobs if not job.ready()]
    if missing:
        (folder / WARM_FOLDER).mkdir(parents=True, exist_ok=True)
        for _ in executor.map_unordered(make_warm_up, missing):  # type: ignore[arg-type]
            pass
    return rewired  # type: ignore[return-value]


def _wants_more(experiment: Experiment, tasks: list[ArmTask], outputs: dict[str, RunOutput], n: int) -> bool:
    """Adaptive replicates: True while some reported difference's CI is wider than its target and n < cap."""
    adaptive = experiment.adaptive
    if adaptive is None or n >= adaptive.max_replicates or len(experiment.arms) < 2:
        return False
    runs, _ = build_tables(experiment, tasks, outputs)
    return bool(too_wide(experiment, runs))


def too_wide(experiment: Experiment, runs: pd.DataFrame) -> list[tuple[str, str, float, float]]:
    """(arm, kpi, CI width, target) of every difference whose 95% CI is wider than the adaptive target."""
    adaptive = experiment.adaptive
    if adaptive is None:
        return []
    kpis = list(adaptive.target_width) or list(experiment.kpis)
    if adaptive.target_rel_width is not None:
        kpis = list(dict.fromkeys([*kpis, *experiment.kpis]))
    diffs = differences(runs, kpis, experiment.baseline_arm, experiment.arm_names)
    wide = []
    for row in diffs.itertuples():
        target = adaptive.target_width.get(row.kpi)
        if target is None and adaptive.target_rel_width is not None:
            target = adaptive.target_rel_width * abs(row.baseline_mean)
        if target is None:
            continue
        width = row.ci_high - row.ci_low
        if not np.isfinite(width) or not width < target:
            wide.append((row.arm, row.kpi, float(width), float(target)))
    return wide


def run_meta(experiment: Experiment, tasks: list[ArmTask], executor: Executor | None = None) -> dict[str, Any]:
    """What identifies and reproduces the experiment: spec, seeds, scenario hashes and package versions."""
    first = {t.arm: t for t in reversed(tasks)}
    arms = [
        {
            "name": a.name,
            "scenario": _describe(a.scenario),
            "params": dict(a.params),
            "factors": dict(a.factors),
            "scenario_hash": first[a.name].scenario_hash if a.name in first else None,
        }
        for a in experiment.arms
    ]
    replicates = max((t.replicate for t in tasks), default=-1) + 1
    spec = {
        "name": experiment.name,
        "root_seed": experiment.root_seed,
        "arms": arms,
        "size": experiment.size_overrides(),
        "ensemble": None if experiment.ensemble is None else frame_hash(experiment.ensemble),
    }
    return {
        "kind": "experiment",
        **spec,
        "question": experiment.question,
        "source": experiment.source,
        "baseline": experiment.baseline_arm,
        "replicates": replicates,
        "seeds": replicate_seeds(experiment.root_seed, replicates),
        "spec_hash": json_hash(spec),
        "versions": versions(),
        "executor": type(executor).__name__ if executor is not None else None,
        "workers": getattr(executor, "workers", None),
    }


def _describe(ref: Any) -> Any:
    if ref is None:
        return "baseline_2023 (default)"
    if isinstance(ref, Scenario):
        return f"<Scenario {ref.name}>"
    if isinstance(ref, tuple):
        return [str(r) for r in ref]
    return str(ref)


class _Progress:
    """A tqdm bar over runs: done (including those found finished), failures, time left."""

    def __init__(self, name: str, enabled: bool) -> None:
        self.name = name
        self.enabled = enabled
        self.bar: Any = None
        self.failed = 0
        self.started = time.monotonic()

    def extend(self, total: int, done: int, failed: int) -> None:
        """Set the total (grows with adaptive replicates) and count runs found already finished."""
        if not self.enabled:
            return
        if self.bar is None:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, initial=done, desc=self.name, unit="run", dynamic_ncols=True)
        else:
            self.bar.total = total
            self.bar.n = done
            self.bar.refresh()
        self.failed = failed
        self.bar.set_postfix(failed=self.failed, refresh=True)

    def update(self, failed: bool) -> None:
        """One more run finished."""
        if self.bar is None:
            return
        if failed:
            self.failed += 1
            self.bar.set_postfix(failed=self.failed, refresh=False)
        self.bar.update(1)

    def close(self) -> None:
        """Close the bar."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None

