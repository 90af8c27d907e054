"""The calibration study: samplers propose candidates, the run layer runs them on common seeds, repeat.

As in optuna, the parts are separate: samplers (`samplers.py`) propose unit points from the
history, the store (`simsales.runs.RunStore`) persists every run, and `search` orchestrates.
The engine owns no randomness of its own beyond the samplers' generators (seeded by the
calibration seed and the batch number) and keeps nothing in memory that is not in the store,
so a killed calibration restarted with the same set-up replays the same proposals and only runs
what is missing.  Runs go through `simsales.runs` like an experiment's: any executor (this
process, local processes, Dask), the same numbers on each, and a run that fails is kept as a
failed run (its KPIs count as missing, which the objective charges) instead of ending the search.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from simsales.calibration.objective import HuberLoss, Loss, Objective
from simsales.calibration.parameters import ParameterSpace
from simsales.calibration.samplers import History, Sampler, SobolSampler, SurrogateSampler
from simsales.calibration.targets import TargetSet
from simsales.runs import (
    STATUS_DONE,
    Executor,
    RunOutput,
    RunStore,
    RunTask,
    SerialExecutor,
    code_hash,
    json_hash,
    needs_run,
    run_tasks,
)
from simsales.scenario import Scenario

#: Name of every calibration study in a store (runs of any calibration set-up on the same model are reused).
STUDY = {"name": "calibration", "kind": "calibration"}


class CalibrationInterrupted(RuntimeError):
    """Raised when a calibration stops early on purpose (`stop_after`); everything run so far is stored."""


@dataclass
class SearchPlan:
    """How the budget is spent: the start point, an exploration stage, then refinement batches."""

    budget: int = 72
    explore: int = 18
    batch: int = 8
    explorer: Sampler = field(default_factory=SobolSampler)
    refiner: Sampler = field(default_factory=SurrogateSampler)
    include_start: bool = True

    def stages(self) -> list[tuple[str, int]]:
        """(stage name, number of candidates) in order, summing to the budget."""
        start = 1 if self.include_start else 0
        explore = max(0, min(self.explore, self.budget - start))
        return [("start", start), (self.explorer.name, explore), (self.refiner.name, self.budget - start - explore)]

    def describe(self) -> dict[str, Any]:
        """Plain description (for fingerprints and metadata)."""
        return {"budget": self.budget, "explore": self.explore, "batch": self.batch, "include_start": self.include_start,
                "explorer": repr(self.explorer), "refiner": repr(self.refiner)}


@dataclass
class Setup:
    """Everything that determines a calibration's results."""

    scenario: Scenario
    space: ParameterSpace
    targets: TargetSet
    seeds: tuple[int, ...]
    n_consumers: int
    plan: SearchPlan = field(default_factory=SearchPlan)
    loss: Loss = field(default_factory=HuberLoss)
    holdout: tuple[str, ...] = ()
    seed: int = 0

    def __post_init__(self) -> None:
        self.fit_targets, self.held_targets = self.targets.split(self.holdout)
        self.objective = Objective(self.fit_targets, self.loss)
        self.start = self.space.current_unit(self.scenario)

    def resolve(self, overrides: dict[str, Any], n_consumers: int) -> Scenario:
        """The scenario of one candidate at one model size: the base with the parameter values applied."""
        return self.scenario.replace(**{**overrides, "run.n_consumers": n_consumers})

    def describe(self) -> dict[str, Any]:
        """Plain description of the whole set-up (for metadata)."""
        return {
            "scenario": self.scenario.to_dict(),
            "parameters": self.space.describe(),
            "targets": self.fit_targets.describe(),
            "seeds": list(self.seeds),
            "n_consumers": self.n_consumers,
            "plan": self.plan.describe(),
            "loss": repr(self.loss),
            "seed": self.seed,
            "start": [float(v) for v in self.start],
            "code": code_hash(),
        }


def candidate_key(index: int) -> str:
    """Key of a search candidate."""
    return f"c{index:04d}"


def run_key(overrides: dict[str, Any], seed: int, n_consumers: int) -> str:
    """Run id of one run: a hash of the parameter values, the seed and the model size (what determines its KPIs)."""
    return f"{json_hash(overrides)}/s{seed}-n{n_consumers}"


class Runner:
    """Runs candidates on seeds through the run layer: stored runs are reused, missing ones run on the executor."""

    def __init__(
        self, setup: Setup, store: RunStore, executor: Executor | None = None, stop_after: int | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        self.setup, self.store = setup, store
        self.executor: Executor = executor if executor is not None else SerialExecutor()
        self.stop_after, self.new_runs = stop_after, 0
        self.progress = progress
        self.outputs: dict[str, RunOutput] = {}  # KPIs of every run this runner has seen (monthly tables dropped)

    def evaluate(self, candidates: list[tuple[str, np.ndarray, dict[str, Any]]], seeds: tuple[int, ...], n_consumers: int) -> dict[str, pd.DataFrame]:
        """KPIs (seeds x KPI ids) of each candidate (name, unit point, metadata), running only what is missing."""
        tasks: dict[str, RunTask] = {}
        for name, x, meta in candidates:
            overrides = self.setup.space.overrides(x)
            keys = [run_key(overrides, seed, n_consumers) for seed in seeds]
            if all(k in self.outputs or k in tasks for k in keys):
                continue
            scenario = self.setup.resolve(overrides, n_consumers)
            labels = {**meta, "candidate": name, "x": [float(v) for v in x], "params": overrides, "n_consumers": n_consumers}
            digest = None
            for key, seed in zip(keys, seeds, strict=True):
                if key not in self.outputs and key not in tasks:
                    task = RunTask.make(key, scenario, seed, labels, digest=digest)
                    digest = task.scenario_hash
                    tasks[key] = task
        todo = list(tasks.values())
        found = self.store.lookup(todo, series=False)
        missing = sum(needs_run(found.get(t.run_id)) for t in todo)
        limit = None
        if self.stop_after is not None and self.new_runs + missing > self.stop_after:
            limit = max(self.stop_after - self.new_runs, 0)
        outputs = run_tasks(todo, self.store, self.executor, stored=found, limit=limit, on_output=self._count)
        self.outputs.update({k: _without_series(o) for k, o in outputs.items()})
        if limit is not None:
            raise CalibrationInterrupted(f"stopped after {self.new_runs} new runs (stop_after)")
        return {name: self.kpis(self.setup.space.overrides(x), seeds, n_consumers) for name, x, _ in candidates}

    def kpis(self, overrides: dict[str, Any], seeds: tuple[int, ...], n_consumers: int) -> pd.DataFrame:
        """KPIs (seeds x KPI ids) of one evaluated parameter set; a failed run's row is all missing (NaN)."""
        rows = {seed: self.outputs[run_key(overrides, seed, n_consumers)].kpis for seed in seeds}
        return pd.DataFrame.from_dict(rows, orient="index").reindex(list(seeds)).astype(float)

    def _count(self, output: RunOutput) -> None:
        self.new_runs += 1
        if self.progress is not None:
            self.progress(1)


@dataclass
class SearchResult:
    """Every search candidate: unit point, values, objective, per-seed objectives and seed-mean KPIs."""

    setup: Setup
    candidates: pd.DataFrame
    per_seed_kpis: dict[str, pd.DataFrame]
    chosen: str | None = None

    @property
    def search_best(self) -> str:
        """Name of the candidate with the lowest objective on the search seeds."""
        return str(self.candidates["objective"].idxmin())

    @property
    def best(self) -> str:
        """The fitted candidate: the one chosen after re-evaluation, else the search's best."""
        return self.chosen if self.chosen is not None else self.search_best

    def x(self, name: str) -> np.ndarray:
        """Unit point of a candidate."""
        return np.array(self.candidates.loc[name, "x"], dtype=float)

    def overrides(self, name: str) -> dict[str, float]:
        """Parameter values of a candidate."""
        return self.setup.space.overrides(self.x(name))


def search(setup: Setup, runner: Runner, progress: bool = False) -> SearchResult:
    """Run (or resume) the search stage by stage and return every candidate's fit."""
    plan = setup.plan
    stored = sum(1 for r in runner.store.entries().values()
                 if r.get("status") == STATUS_DONE and r.get("stage") not in ("sensitivity", "check", "selection", "polish"))
    bar = _bar(progress, plan.budget * len(setup.seeds), stored, "search runs")
    runner.progress = bar.update if bar else None
    names: list[str] = []
    xs: list[np.ndarray] = []
    batches: list[int] = []
    stages: list[str] = []
    kpis: dict[str, pd.DataFrame] = {}
    samplers = {plan.explorer.name: plan.explorer, plan.refiner.name: plan.refiner}
    batch = 0
    pending: list[tuple[str, np.ndarray]] = []  # the start point waits to share the exploration batch
    stage_sizes = [(st, sz) for st, sz in plan.stages() if sz > 0]
    try:
        for k, (stage, size) in enumerate(stage_sizes):
            done = 0
            while done < size:
                if stage == "start":
                    proposal = setup.start[None, :]
                else:
                    n = size if stage == plan.explorer.name else min(plan.batch, size - done)
                    history = _history(setup, xs, batches, stages, kpis, names)
                    rng = np.random.default_rng([setup.seed, batch])
                    proposal = samplers[stage].propose(n, history, rng=rng, offset=done, size=size)
                done += len(proposal)
                pending += [(stage, x) for x in proposal]
                next_stage = stage_sizes[k + 1][0] if k + 1 < len(stage_sizes) else ""
                if stage == "start" and next_stage == plan.explorer.name:
                    continue
                batch_names = [candidate_key(len(names) + i) for i in range(len(pending))]
                kpis.update(runner.evaluate(
                    [(nm, x, {"stage": st, "batch": batch}) for nm, (st, x) in zip(batch_names, pending, strict=True)],
                    setup.seeds, setup.n_consumers))
                names += batch_names
                xs += [x for _, x in pending]
                batches += [batch] * len(pending)
                stages += [st for st, _ in pending]
                pending = []
                batch += 1
    finally:
        runner.progress = None
        if bar:
            bar.close()
    return SearchResult(setup, candidate_frame(setup, names, xs, batches, stages, kpis), kpis)


def _history(setup: Setup, xs: list[np.ndarray], batches: list[int], stages: list[str], kpis: dict[str, pd.DataFrame], names: list[str]) -> History:
    obj = setup.objective
    if not names:
        return History(np.empty((0, setup.space.dim)), np.empty(0), np.empty((0, len(obj.targets))), np.empty(0, int), [], obj,
                       setup.space.prior_penalty)
    means = np.array([obj.mean_kpis(_matrix(kpis[n], obj.targets.kpis)) for n in names])
    z = obj.residuals(means)
    loss = obj.from_residuals(z) + np.array([setup.space.prior_penalty(x) for x in xs])
    return History(np.array(xs), loss, z, np.array(batches), list(stages), obj, setup.space.prior_penalty)


def _matrix(frame: pd.DataFrame, kpi_ids: list[str]) -> np.ndarray:
    """Seeds x targets matrix of KPI values (NaN where a KPI is missing)."""
    return frame.reindex(columns=kpi_ids).to_numpy(dtype=float)


def _without_series(output: RunOutput) -> RunOutput:
    """The output without its monthly table (a calibration needs only KPIs; this keeps memory flat)."""
    if output.monthly is None:
        return output
    return RunOutput(output.run_id, output.status, output.kpis, None, output.error, output.seconds, output.cpu_seconds,
                     output.code, output.finished)


def candidate_frame(setup: Setup, names: list[str], xs: list[np.ndarray], batches: list[int], stages: list[str],
                     kpis: dict[str, pd.DataFrame]) -> pd.DataFrame:
    obj = setup.objective
    rows = []
    for name, x, b, s in zip(names, xs, batches, stages, strict=True):
        m = _matrix(kpis[name], obj.targets.kpis)
        penalty = setup.space.prior_penalty(x)
        rows.append({
            "candidate": name, "stage": s, "batch": b, "x": [float(v) for v in x],
            "objective": obj(m) + penalty,
            "seed_objectives": [float(v) + penalty for v in obj.per_seed(m)],
            **setup.space.overrides(x),
        })
    return pd.DataFrame(rows).set_index("candidate")


def _bar(progress: bool, total: int, initial: int, desc: str) -> Any:
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=min(initial, total), desc=desc, unit="run")
