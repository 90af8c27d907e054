"""The one way to run many seeded simulations: tasks, executors, stores, resume.

Calibration (`simsales.calibration`) and experiments (`simsales.experiments`) are clients of
this layer.  A client turns its design into `RunTask`s (resolved scenario, seed, identity =
scenario hash + code hash), asks a `RunStore` which already ran, and runs the rest on an
`Executor` (this process, local joblib processes with one BLAS thread each, or Dask)::

    from simsales.runs import DirectoryStore, RunTask, make_executor, replicate_seeds, run_tasks
    tasks = [RunTask.make(f"base/r{i}", scenario, seed) for i, seed in enumerate(replicate_seeds(7, 4))]
    store = DirectoryStore("out/study")
    store.open({"name": "study", "kind": "example"})
    outputs = run_tasks(tasks, store, make_executor(2))   # re-running resumes; failures are data
    store.close()
"""

from simsales.runs.batch import needs_run, run_tasks
from simsales.runs.executors import DaskExecutor, Executor, JoblibExecutor, SerialExecutor, local_cluster, make_executor
from simsales.runs.identity import code_hash, frame_hash, json_hash, scenario_hash, simulation_modules, versions
from simsales.runs.seeds import auxiliary_rng, quasi_random, replicate_seeds, seed_of
from simsales.runs.store import DirectoryStore, MemoryStore, RunStore, atomic_write, atomic_write_text, make_store
from simsales.runs.tasks import STATUS_DONE, STATUS_FAILED, STATUS_PENDING, RunOutput, RunTask, execute_task

__all__ = [
    "STATUS_DONE",
    "STATUS_FAILED",
    "STATUS_PENDING",
    "DaskExecutor",
    "DirectoryStore",
    "Executor",
    "JoblibExecutor",
    "MemoryStore",
    "RunOutput",
    "RunStore",
    "RunTask",
    "SerialExecutor",
    "atomic_write",
    "atomic_write_text",
    "auxiliary_rng",
    "code_hash",
    "execute_task",
    "frame_hash",
    "json_hash",
    "local_cluster",
    "make_executor",
    "make_store",
    "needs_run",
    "quasi_random",
    "replicate_seeds",
    "run_tasks",
    "scenario_hash",
    "seed_of",
    "simulation_modules",
    "versions",
]
