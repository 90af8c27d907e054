"""Running a batch of tasks through a store: reuse what is stored, run the rest, keep each as it ends."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from simsales.runs.executors import Executor
from simsales.runs.store import RunStore
from simsales.runs.tasks import STATUS_DONE, RunOutput, RunTask, execute_task


def needs_run(output: RunOutput | None, retry_failed: bool = True) -> bool:
    """True when a task has no stored output, or only a failed one that is to be retried."""
    if output is None:
        return True
    return output.status != STATUS_DONE and retry_failed


def run_tasks(
    tasks: Sequence[RunTask],
    store: RunStore,
    executor: Executor,
    *,
    stored: Mapping[str, RunOutput] | None = None,
    retry_failed: bool = True,
    limit: int | None = None,
    series: bool = True,
    on_output: Callable[[RunOutput], None] | None = None,
) -> dict[str, RunOutput]:
    """Outputs of `tasks` by run id: stored ones reused, missing ones run on `executor` and saved as each finishes.

    `stored`: outputs already looked up (else the store is asked); `limit`: run at most this many
    new tasks (the rest stay missing from the result); `series=False`: stored runs are read without
    their monthly tables.  Tasks sharing a run id run once.  Outputs arrive in any order; the
    result is keyed by run id, so it does not depend on where or in which order the runs ended.
    """
    found = dict(stored) if stored is not None else store.lookup(tasks, series=series)
    todo = list({t.run_id: t for t in tasks if needs_run(found.get(t.run_id), retry_failed)}.values())
    if limit is not None:
        todo = todo[: max(limit, 0)]
    by_id = {t.run_id: t for t in todo}
    for output in executor.map_unordered(execute_task, todo):
        store.save(by_id[output.run_id], output)
        found[output.run_id] = output
        if on_output is not None:
            on_output(output)
    return found
