"""Warm starts for experiments: the arms of one replicate share their warm-up.

Why: every arm of a replicate simulates the same days until the first of the arms' events can
act (by default the 545 warm-up days and often months of the recorded window).  With random
numbers keyed by (seed, purpose, entity, day) those days are the same in every arm, so they are
simulated once per replicate - the arms' event-free twin, `simsales.warmstart` - saved as a
snapshot under the results folder (``warmups/``, so a killed experiment reuses them), and every
arm continues from it.  Results are identical to cold starts; `run_experiment(warm_start=False)`
and `simsales experiment --no-warm-start` turn it off.  Snapshots are local files, so warm
starts are used with in-process and joblib workers, not with a Dask scheduler.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simsales.runs import RunTask, scenario_hash
from simsales.scenario import Scenario
from simsales.snapshots import SnapshotError, read_header
from simsales.warmstart import continue_from, event_free, first_effect_day, warm_up

FOLDER = "warmups"


@dataclass(frozen=True)
class WarmUp:
    """One shared warm-up: the event-free twin, the seed, the day it runs to and its snapshot file."""

    twin: Scenario
    seed: int
    day: int
    path: str

    def ready(self) -> bool:
        """True when the snapshot exists, is readable and is of the right day (a resumed experiment)."""
        try:
            return read_header(self.path)["day"] == self.day
        except (OSError, SnapshotError, ValueError):
            return False


@dataclass(frozen=True)
class WarmRunner:
    """A task runner that continues the arm's scenario from a warm-up snapshot instead of day 0."""

    path: str
    seed: int

    def __call__(self, scenario: Scenario, seed: int | None = None, **_: Any) -> Any:
        from simsales.run import RunResult, release_model

        if seed is not None and int(seed) != self.seed:
            raise ValueError(f"warm-up {self.path} was made with seed {self.seed}, not {seed}")
        model = continue_from(self.path, scenario)
        try:
            model.run_model()
            return RunResult.from_model(model)
        finally:
            release_model(model)


def make_warm_up(job: WarmUp) -> str:
    """Run one warm-up (in a worker) unless its snapshot is already there; returns its path."""
    if not job.ready():
        warm_up(job.twin, job.seed, job.day, job.path)
    return job.path


def plan_warm_starts(tasks: Sequence[RunTask], folder: Path) -> tuple[list[WarmUp], list[RunTask]]:
    """The warm-ups `tasks` can share, and the tasks rewired to continue from them.

    Tasks with one seed (a replicate: the same seed and ensemble member in every arm) whose
    scenarios differ only in their events share their event-free twin's warm-up up to the
    earliest first-event day among them, when at least two do so and that day is after day 0.
    Tasks with a custom runner, or whose events act from day 0 (a store-network strategy), run
    from day 0 as before.
    """
    groups: dict[tuple[int, str], list[tuple[RunTask, int]]] = {}
    twins: dict[tuple[int, str], Scenario] = {}
    for task in tasks:
        day = first_effect_day(task.scenario)
        if task.runner is not None or day == 0:
            continue
        twin = event_free(task.scenario)
        key = (task.seed, scenario_hash(twin))
        groups.setdefault(key, []).append((task, day))
        twins[key] = twin
    jobs: list[WarmUp] = []
    rewired: dict[str, RunTask] = {}
    for (seed, digest), group in groups.items():
        if len(group) < 2:
            continue
        day = min(d for _, d in group)
        path = str(folder / FOLDER / f"{digest[:16]}-seed{seed}-day{day}.simsnap")
        jobs.append(WarmUp(twins[(seed, digest)], seed, day, path))
        for task, _ in group:
            rewired[task.run_id] = dataclasses.replace(task, runner=WarmRunner(path, seed))
    return jobs, [rewired.get(t.run_id, t) for t in tasks]
