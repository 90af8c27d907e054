"""The run layer (simsales.runs) on its own: identity, stores, resume, failures as data.

Fake runners (no model) keep the store tests instantaneous; the code hash is read from the real
package.  The end-to-end kill -9 and Dask tests of both clients live in tests/test_runs_resume.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from simsales.runs import (
    STATUS_DONE,
    STATUS_FAILED,
    DirectoryStore,
    MemoryStore,
    RunStore,
    RunTask,
    SerialExecutor,
    code_hash,
    run_tasks,
    simulation_modules,
)

CALLS: list[int] = []


@dataclass
class FakeResult:
    """The two tables of a `RunResult` the run layer reads."""

    kpis: pd.DataFrame
    monthly: pd.DataFrame


def fake_runner(scenario: object, seed: int) -> FakeResult:
    """KPIs that depend on the seed and the scenario's consumer count; fails for seed 13."""
    CALLS.append(seed)
    if seed == 13:
        raise RuntimeError("boom in the model")
    value = seed * 1000.0 + scenario.run.n_consumers  # type: ignore[attr-defined]
    monthly = pd.DataFrame({"month": pd.to_datetime(["2023-01-01", "2023-02-01"]), "deliveries": [value, value + 1]})
    return FakeResult(pd.DataFrame({"id": ["market.total_sales"], "value": [value]}), monthly)


def tasks_for(baseline: object, seeds: tuple[int, ...], n: int = 1000) -> list[RunTask]:
    scenario = baseline.replace(**{"run.n_consumers": n})  # type: ignore[attr-defined]
    return [RunTask.make(f"base/s{s}", scenario, s, {"arm": "base"}, runner=fake_runner) for s in seeds]


def test_code_hash_follows_the_simulation_imports_not_a_list() -> None:
    """Every model module is covered (found through imports); the clients of the run layer are not."""
    modules = set(simulation_modules())
    package = Path(__import__("simsales").__file__).parent
    for folder in ("agents", "market", "events"):
        for path in (package / folder).glob("*.py"):
            name = f"simsales.{folder}.{path.stem}".removesuffix(".__init__")
            assert name in modules, name
    assert {"simsales.model", "simsales.journey", "simsales.streams", "simsales.kpis", "simsales.run"} <= modules
    assert not {m for m in modules if m.startswith(("simsales.calibration", "simsales.experiments", "simsales.runs"))}
    assert len(code_hash()) == 16


@pytest.mark.parametrize("kind", ["memory", "directory"])
def test_store_resumes_only_runs_with_the_same_identity(kind: str, baseline: object, tmp_path: Path) -> None:
    """Stored runs are reused; another seed, scenario or code version is not; a failed run is data and retried."""
    store: RunStore = MemoryStore() if kind == "memory" else DirectoryStore(tmp_path)
    tasks = tasks_for(baseline, (1, 2, 13))
    store.open({"name": "study"})
    CALLS.clear()
    first = run_tasks(tasks, store, SerialExecutor())
    assert CALLS == [1, 2, 13]
    assert first["base/s13"].status == STATUS_FAILED and "boom in the model" in first["base/s13"].error
    assert first["base/s2"].kpis == {"market.total_sales": 3000.0}
    store.close()
    # resume: the finished runs come from the store, the failed one is retried (and fails again)
    store.open({"name": "study"})
    CALLS.clear()
    again = run_tasks(tasks, store, SerialExecutor())
    assert CALLS == [13]
    assert again["base/s2"].kpis == first["base/s2"].kpis
    pd.testing.assert_frame_equal(again["base/s2"].monthly, first["base/s2"].monthly)
    # kept as failed when not retried
    CALLS.clear()
    assert run_tasks(tasks, store, SerialExecutor(), retry_failed=False)["base/s13"].status == STATUS_FAILED and CALLS == []
    if kind == "directory":
        store.close()
        manifest = json.loads((tmp_path / "manifest.json").read_text())
        assert manifest["status"] == {"done": 2, "failed": 1}
        assert manifest["runs"]["base/s1"]["code_hash"] == code_hash() and manifest["runs"]["base/s1"]["arm"] == "base"
        store.open({"name": "study"})
    # the same run ids with another scenario, or planned by other code, are run again
    other_size = tasks_for(baseline, (1,), n=2000)
    other_code = [RunTask(t.run_id, t.seed, t.scenario, t.scenario_hash, "0" * 16, t.labels, t.runner) for t in tasks[:1]]
    for changed in (other_size, other_code):
        assert store.lookup(changed) == {}
    store.close()


def test_directory_store_reruns_a_damaged_file_and_clears_temporaries(baseline: object, tmp_path: Path) -> None:
    """A file cut short by a kill is not trusted: the run is done again; half-written temporaries are removed."""
    tasks = tasks_for(baseline, (1, 2))
    store = DirectoryStore(tmp_path)
    store.open({"name": "study"})
    run_tasks(tasks, store, SerialExecutor())
    store.close()
    damaged = tmp_path / "runs" / "base" / "s1.parquet"
    damaged.write_bytes(damaged.read_bytes()[:50])
    (tmp_path / "runs" / "base" / "s3.parquet.tmp-999").write_bytes(b"half")
    store = DirectoryStore(tmp_path)
    store.open({"name": "study"})
    assert not list(tmp_path.rglob("*.tmp-*"))
    CALLS.clear()
    outputs = run_tasks(tasks, store, SerialExecutor())
    store.close()
    assert CALLS == [1] and outputs["base/s1"].status == STATUS_DONE


def test_run_tasks_runs_a_shared_id_once_and_respects_a_limit(baseline: object) -> None:
    store = MemoryStore()
    store.open({"name": "study"})
    tasks = tasks_for(baseline, (1, 2, 3))
    CALLS.clear()
    partial = run_tasks([*tasks, tasks[0]], store, SerialExecutor(), limit=2)
    assert CALLS == [1, 2] and set(partial) == {"base/s1", "base/s2"}
    CALLS.clear()
    assert set(run_tasks(tasks, store, SerialExecutor())) == {"base/s1", "base/s2", "base/s3"} and CALLS == [3]


def test_store_errors_are_simsales_errors_the_command_line_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Another study's folder and a live lock raise StoreError subclasses; `simsales calibrate` exits 2 naming the folder."""
    from simsales.cli import main
    from simsales.errors import SimsalesError, StoreInUse, StoreMismatch

    store = DirectoryStore(tmp_path)
    store.open({"name": "one", "kind": "experiment"})
    store.close()
    with pytest.raises(StoreMismatch, match="holds experiment 'one', not 'calibration'") as err:
        DirectoryStore(tmp_path).open({"name": "calibration"})
    assert isinstance(err.value, SimsalesError)
    (tmp_path / "lock").write_text("1")  # pid 1 is alive: someone else is writing here
    with pytest.raises(StoreInUse):
        DirectoryStore(tmp_path).open({"name": "one"})
    assert main(["calibrate", "--checkpoint", str(tmp_path), "--out", str(tmp_path / "out"), "--budget", "1", "--jobs", "1"]) == 2
    assert f"{tmp_path} is in use by process 1" in capsys.readouterr().err


def test_a_calibration_keeps_a_failed_run_as_data(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A run that raises does not end the search: its KPIs are missing (charged by the objective), its error is kept."""
    import sys

    import numpy as np

    from simsales.calibration import build_setup
    from simsales.calibration.engine import STUDY, Runner

    params = tmp_path / "params.toml"
    params.write_text('[parameters."journey.outside_utility"]\nlow = 0.8\nhigh = 2.4\n')
    setup = build_setup(parameters=params, seeds=(1, 2), n_consumers=1000, budget=1)
    kpis = list(setup.objective.targets.kpis)

    def runner(scenario: object, seed: int) -> FakeResult:
        if seed == 2:
            raise RuntimeError("boom in the model")
        return FakeResult(pd.DataFrame({"id": kpis, "value": [1.0] * len(kpis)}), pd.DataFrame({"month": [], "x": []}))

    monkeypatch.setattr(sys.modules["simsales.run"], "run", runner)  # the module, not the function it exports
    store = DirectoryStore(tmp_path / "checkpoint")
    store.open(STUDY)
    frame = Runner(setup, store).evaluate([("c0", setup.start, {"stage": "start"})], setup.seeds, 1000)["c0"]
    store.close()
    assert frame.loc[1].notna().all() and frame.loc[2].isna().all()
    statuses = sorted(entry["status"] for entry in store.entries().values())
    assert statuses == ["done", "failed"]
    assert "boom in the model" in next(e["error"] for e in store.entries().values() if e["status"] == "failed")
    assert np.isfinite(setup.objective(frame.reindex(columns=kpis).to_numpy(dtype=float)))
