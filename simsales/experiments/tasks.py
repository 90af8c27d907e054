"""One run of an experiment as a self-contained, picklable task, and the function a worker runs.

A task carries its fully resolved `Scenario` and seed, so a worker (a joblib process, a Dask
worker on another machine) needs nothing but the simsales package to run it.  The worker never
raises: a failing run comes back as a `RunOutput` with status "failed" and the traceback.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import mesa
import numpy as np
import pandas as pd

from simsales.scenario import Scenario

STATUS_DONE = "done"
STATUS_FAILED = "failed"


@dataclass(frozen=True)
class RunTask:
    """Arm x replicate: what to run and how to recognise it when resuming."""

    run_id: str
    arm: str
    replicate: int
    seed: int
    scenario: Scenario
    scenario_hash: str
    ensemble_member: int | None = None
    runner: Callable[..., Any] | None = None

    def record(self) -> dict[str, Any]:
        """Identity of the run as stored in the manifest and in its Parquet file."""
        return {
            "run_id": self.run_id,
            "arm": self.arm,
            "replicate": self.replicate,
            "seed": self.seed,
            "scenario_hash": self.scenario_hash,
            "ensemble_member": self.ensemble_member,
        }


@dataclass
class RunOutput:
    """What came back from one run: KPI values and the monthly series, or the error."""

    run_id: str
    status: str
    kpis: dict[str, float]
    monthly: pd.DataFrame | None
    error: str | None = None
    seconds: float = 0.0


def run_id_for(arm: str, replicate: int) -> str:
    """Stable id of arm x replicate, also its file name under runs/."""
    return f"{arm}/r{replicate:05d}"


def execute_task(task: RunTask) -> RunOutput:
    """Run one task (in whatever process it lands); errors become a failed output, never an exception."""
    start = time.perf_counter()
    models_before = _registered_models()
    try:
        runner = task.runner
        if runner is None:
            from simsales.run import run as runner
        result = runner(task.scenario, seed=task.seed)
        kpis = {str(k): float(v) for k, v in zip(result.kpis["id"], result.kpis["value"], strict=True)}
        monthly = normalise_monthly(result.monthly)
        return RunOutput(task.run_id, STATUS_DONE, kpis, monthly, None, time.perf_counter() - start)
    except Exception as exc:  # noqa: BLE001 - a failed run is data, the experiment goes on
        error = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=8)}"
        return RunOutput(task.run_id, STATUS_FAILED, {}, None, error, time.perf_counter() - start)
    finally:
        _forget_models(models_before)


def _registered_models() -> set[Any]:
    """Models Mesa 3.3 keeps in its class-level agent-id counters (`mesa.Agent._ids`; absent in 3.5)."""
    ids = getattr(mesa.Agent, "_ids", None)
    return set(ids) if isinstance(ids, dict) else set()


def _forget_models(before: set[Any]) -> None:
    """Drop the finished run's model from Mesa 3.3's `Agent._ids`, which otherwise keeps every model
    alive (about 20 MB per default-size run, so a long-lived worker would grow without bound)."""
    ids = getattr(mesa.Agent, "_ids", None)
    if isinstance(ids, dict):
        for model in set(ids) - before:
            ids.pop(model, None)


def normalise_monthly(monthly: pd.DataFrame) -> pd.DataFrame:
    """Monthly series with fixed dtypes (month as datetime64[ns], numbers as float64), as stored on disk,
    plus the focal firm's monthly profit (margin less operating, strategy and risk-plan costs, real units, yuan)."""
    out = monthly.copy()
    if "month" in out.columns:
        out["month"] = pd.to_datetime(out["month"]).astype("datetime64[ns]")
    for col in out.columns:
        if col != "month" and pd.api.types.is_numeric_dtype(out[col]):
            out[col] = out[col].astype(np.float64)
    parts = ("focal_gross_margin", "focal_operating_cost", "strategy_cost", "risk_cost")
    if all(p in out.columns for p in parts) and "focal_profit" not in out.columns:
        out["focal_profit"] = out[parts[0]] - out[parts[1]] - out[parts[2]] - out[parts[3]]
    return out.reset_index(drop=True)
