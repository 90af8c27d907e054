"""Where runs execute: in this process, in local worker processes (joblib), or on a Dask cluster.

Every executor maps the same pure function over the same tasks and yields outputs as they
finish (in any order); the engine sorts them, so results do not depend on where they ran.
Workers run NumPy single-threaded (OMP/MKL/OpenBLAS threads = 1) so that N workers use N cores.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

from simsales.runs.tasks import RunOutput, RunTask, failed_output

THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


class Executor(Protocol):
    """Runs tasks and yields their outputs as they finish."""

    workers: int

    def map_unordered(self, fn: Callable[[RunTask], RunOutput], tasks: Sequence[RunTask]) -> Iterator[RunOutput]:
        """Yield fn(task) for every task, in completion order."""
        ...

    def close(self) -> None:
        """Release what the executor started."""
        ...


class SerialExecutor:
    """Runs tasks one after another in this process (debugging, notebooks, 1 core)."""

    workers = 1

    def map_unordered(self, fn: Callable[[RunTask], RunOutput], tasks: Sequence[RunTask]) -> Iterator[RunOutput]:
        """Yield fn(task) in task order."""
        for task in tasks:
            yield fn(task)

    def close(self) -> None:
        """Nothing to release."""


class JoblibExecutor:
    """Local worker processes through joblib's loky backend (default: all cores)."""

    def __init__(self, n_jobs: int | None = None, *, processes_for_one: bool = False) -> None:
        cores = os.cpu_count() or 1
        n = -1 if n_jobs is None else int(n_jobs)
        self.workers = cores if n == -1 else (max(cores + 1 + n, 1) if n < 0 else n)
        self.processes_for_one = processes_for_one  # one worker process instead of this process (benchmarks)

    def map_unordered(self, fn: Callable[[RunTask], RunOutput], tasks: Sequence[RunTask]) -> Iterator[RunOutput]:
        """Yield outputs as workers finish them (one task per dispatch, so long runs balance)."""
        if (self.workers == 1 and not self.processes_for_one) or len(tasks) == 0:
            yield from SerialExecutor().map_unordered(fn, tasks)
            return
        from joblib import Parallel, delayed, parallel_config

        with parallel_config(backend="loky", inner_max_num_threads=1):
            parallel = Parallel(n_jobs=self.workers, return_as="generator_unordered", batch_size=1, pre_dispatch="2*n_jobs")
            yield from parallel(delayed(fn)(task) for task in tasks)

    def close(self) -> None:
        """Workers are reused by loky between calls and end with the process."""


class DaskExecutor:
    """Tasks submitted to a Dask cluster (`dask.distributed`): a Client, or a scheduler address."""

    def __init__(self, client: Any = None, address: str | None = None, timeout: float | None = None) -> None:
        try:
            from distributed import Client
        except ImportError as exc:  # pragma: no cover - optional extra
            raise ImportError("Dask execution needs the 'dask' extra: pip install 'simsales[dask]'") from exc
        self._own = client is None
        connect = {"timeout": timeout} if timeout is not None else {}
        self.client = client if client is not None else Client(address, **connect)
        self.workers = max(sum(self.client.nthreads().values()), 1)

    def map_unordered(self, fn: Callable[[RunTask], RunOutput], tasks: Sequence[RunTask]) -> Iterator[RunOutput]:
        """Submit every task and yield outputs as they complete; a lost worker marks its run failed."""
        from distributed import as_completed

        futures = {self.client.submit(fn, task, pure=False): task for task in tasks}
        try:
            for future in as_completed(futures):
                task = futures[future]
                try:
                    yield future.result()
                except Exception as exc:
                    yield failed_output(task, f"{type(exc).__name__}: {exc}")
                finally:
                    future.release()
        finally:
            pending = [f for f in futures if not f.done()]
            if pending:
                self.client.cancel(pending)

    def close(self) -> None:
        """Close the client if this executor opened it."""
        if self._own:
            self.client.close()


def make_executor(workers: int | None = None, scheduler: Any = None) -> Executor:
    """joblib with `workers` processes (None = all cores, 0 or 1 = this process), or Dask when `scheduler` is given.

    `scheduler` is a `distributed.Client` or a scheduler address such as 'tcp://10.0.0.5:8786'.
    """
    if scheduler is not None:
        if isinstance(scheduler, str):
            return DaskExecutor(address=scheduler)
        return DaskExecutor(client=scheduler)
    if workers is not None and int(workers) in (0, 1):
        return SerialExecutor()
    return JoblibExecutor(workers)


def local_cluster(n_workers: int = 2, **kwargs: Any) -> Any:
    """A `distributed.LocalCluster` of single-threaded worker processes with NumPy threads pinned to 1."""
    import dask
    from distributed import LocalCluster

    environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ", {}))
    environ.update(dict.fromkeys(THREAD_VARIABLES, "1"))
    with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
        return LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, **kwargs)
