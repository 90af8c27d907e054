"""One run as a self-contained, picklable task, what comes back from it, and the function a worker runs.

A task carries its fully resolved `Scenario` and seed, so a worker (this process, a joblib
process, a Dask worker on another machine) needs nothing but the simsales package to run it.
Its identity - seed, scenario hash, code hash - is what a store compares before reusing a
stored run.  The worker never raises: a failing run comes back as a `RunOutput` with status
"failed" and the traceback, and is kept as data like any other run.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from simsales.measures import FOCAL_COSTS, FOCAL_MARGIN
from simsales.runs.identity import code_hash, scenario_hash
from simsales.scenario import Scenario

STATUS_DONE = "done"
STATUS_FAILED = "failed"
STATUS_PENDING = "pending"


@dataclass(frozen=True)
class RunTask:
    """One simulation: a stable id, a resolved scenario, a seed, and labels the client attaches.

    `labels` (e.g. arm and replicate, or candidate and stage) are stored with the run; the
    identity (seed, scenario hash, code hash) decides whether a stored run can be reused.
    """

    run_id: str
    seed: int
    scenario: Scenario
    scenario_hash: str
    code_hash: str = ""
    labels: Mapping[str, Any] = field(default_factory=dict)
    runner: Callable[..., Any] | None = None

    @classmethod
    def make(cls, run_id: str, scenario: Scenario, seed: int, labels: Mapping[str, Any] | None = None, *,
             digest: str | None = None, runner: Callable[..., Any] | None = None) -> RunTask:
        """A task with its identity filled in (`digest`: the scenario hash, if already known)."""
        return cls(run_id, int(seed), scenario, digest or scenario_hash(scenario), code_hash(), dict(labels or {}), runner)

    def identity(self) -> dict[str, Any]:
        """What determines the run's outputs besides its id: seed, scenario hash, code hash."""
        return {"seed": self.seed, "scenario_hash": self.scenario_hash, "code_hash": self.code_hash}

    def record(self) -> dict[str, Any]:
        """Id, labels and identity, as stored in a manifest and in the run's Parquet file."""
        return {"run_id": self.run_id, **self.labels, **self.identity()}

    def matches(self, stored: Mapping[str, Any]) -> bool:
        """True when a stored record has this task's identity (so its outputs can be reused)."""
        return all(stored.get(k) == v for k, v in self.identity().items())


@dataclass
class RunOutput:
    """What came back from one run: KPI values and the monthly series, or the error."""

    run_id: str
    status: str
    kpis: dict[str, float]
    monthly: pd.DataFrame | None
    error: str | None = None
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    code: str = ""
    finished: float = 0.0

    def timing(self) -> dict[str, Any]:
        """Status, error, wall and CPU seconds, the code the worker ran and when it finished (for records)."""
        return {"status": self.status, "error": self.error, "seconds": self.seconds, "cpu_seconds": self.cpu_seconds,
                "code": self.code, "finished": self.finished}


def failed_output(task: RunTask, error: str, seconds: float = 0.0) -> RunOutput:
    """The output of a run that did not finish (an exception, a lost worker)."""
    return RunOutput(task.run_id, STATUS_FAILED, {}, None, error, seconds, finished=time.time())


def execute_task(task: RunTask) -> RunOutput:
    """Run one task (in whatever process it lands); errors become a failed output, never an exception.

    `simsales.run()` releases its model from Mesa 3.3's agent-id registry (`release_model`), so a
    long-lived worker does not keep every finished model alive.
    """
    start, cpu = time.perf_counter(), time.process_time()
    try:
        runner = task.runner
        if runner is None:
            from simsales.run import run as runner
        result = runner(task.scenario, seed=task.seed)
        kpis = {str(k): float(v) for k, v in zip(result.kpis["id"], result.kpis["value"], strict=True)}
        monthly = normalise_monthly(result.monthly)
        return RunOutput(task.run_id, STATUS_DONE, kpis, monthly, None, time.perf_counter() - start,
                         time.process_time() - cpu, code_hash(), time.time())
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=8)}"
        return failed_output(task, error, time.perf_counter() - start)


def normalise_monthly(monthly: pd.DataFrame) -> pd.DataFrame:
    """Monthly series with fixed dtypes (month as datetime64[ns], numbers as float64), as stored on disk,
    plus the focal firm's monthly profit (margin less operating, strategy and risk-plan costs, real units, yuan)."""
    out = monthly.copy()
    if "month" in out.columns:
        out["month"] = pd.to_datetime(out["month"]).astype("datetime64[ns]")
    for col in out.columns:
        if col != "month" and pd.api.types.is_numeric_dtype(out[col]):
            out[col] = out[col].astype(np.float64)
    if all(p in out.columns for p in (FOCAL_MARGIN, *FOCAL_COSTS)) and "focal_profit" not in out.columns:
        profit = out[FOCAL_MARGIN]
        for cost in FOCAL_COSTS:  # the counters of simsales.measures.focal_profit, subtracted one by one
            profit = profit - out[cost]
        out["focal_profit"] = profit
    return out.reset_index(drop=True)
