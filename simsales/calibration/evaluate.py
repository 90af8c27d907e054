"""Evaluating candidates: one `simsales.run()` per (parameter set, seed), in parallel with joblib.

Jobs are independent and deterministic (same overrides and seed => same KPIs), so they can run
in any order on any worker; results are yielded as they finish so the caller can store each one
at once.
"""

from __future__ import annotations

import functools
import hashlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from joblib import Parallel, delayed

import simsales
from simsales.run import run
from simsales.scenario import Scenario

#: Parts of the package whose code determines a run's KPIs (the checkpoint is keyed on them).
SIMULATION_PACKAGES = ("agents/", "market/", "scenario/", "events/")
SIMULATION_MODULES = ("model.py", "journey.py", "kpis.py", "levers.py", "recorder.py", "run.py")


@functools.cache
def model_code_hash() -> str:
    """Hash of the simulation code a process runs (model, journey, agents, market, scenario, KPIs).

    Computed once per process, when its first run starts (the code it imported), so a worker
    that imported other code than the calibration's main process is visible in its records.
    """
    root = Path(simsales.__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if not (rel.startswith(SIMULATION_PACKAGES) or rel in SIMULATION_MODULES):
            continue
        digest.update(rel.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class Job:
    """One simulation: a key, the overrides on top of the base scenario, a seed and a model size."""

    key: str
    overrides: dict[str, Any]
    seed: int
    n_consumers: int
    meta: dict[str, Any]


def simulate(scenario: Scenario, job: Job) -> dict[str, Any]:
    """Run one job and return its record (KPIs of every registered KPI, run time, code hash)."""
    code = model_code_hash()
    start, cpu = time.perf_counter(), time.process_time()
    result = run(scenario, seed=job.seed, n_consumers=job.n_consumers, params=job.overrides)
    values = result.kpis.set_index("id")["value"]
    kpis = {k: (float(v) if np.isfinite(v) else None) for k, v in values.items()}
    return {
        "key": job.key,
        **job.meta,
        "seed": job.seed,
        "n_consumers": job.n_consumers,
        "params": job.overrides,
        "kpis": kpis,
        "seconds": round(time.perf_counter() - start, 3),
        "cpu_seconds": round(time.process_time() - cpu, 3),
        "finished_at": round(time.time(), 3),
        "code": code,
    }


def run_jobs(scenario: Scenario, jobs: list[Job], n_jobs: int = 1) -> Iterator[dict[str, Any]]:
    """Records of `jobs`, yielded as each finishes (sequentially when n_jobs == 1)."""
    if not jobs:
        return iter(())
    if n_jobs == 1 or len(jobs) == 1:
        return (simulate(scenario, job) for job in jobs)
    parallel = Parallel(n_jobs=n_jobs, return_as="generator_unordered")
    return iter(parallel(delayed(simulate)(scenario, job) for job in jobs))
