"""Experiments on the real model: same numbers on 1 worker, 2 workers and a Dask LocalCluster;
nothing lost or duplicated when a run is killed with SIGKILL part-way and restarted; the
command line returns the same objects as the Python API.  Small models keep this fast.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from simsales.cli import main
from simsales.commands.experiment import run_from_args
from simsales.experiments import Arm, Experiment, load_experiment, local_cluster, run_experiment

SPEC = """
name = "exec_test"
question = "Does a stronger NEV premium change sales?"
replicates = {replicates}
root_seed = 11
kpis = ["market.total_sales", "market.nev_share", "inventory.stock_coefficient"]
[run]
n_consumers = 5000
days = 45
warmup_days = 45
[[arms]]
name = "baseline"
[[arms]]
name = "wtp_up"
params = {{ "population.nev_wtp_mean" = 0.25 }}
[[thresholds]]
kpi = "inventory.stock_coefficient"
above = 1.5
"""


def _spec(tmp_path: Path, replicates: int) -> Path:
    path = tmp_path / "exp_exec.toml"
    path.write_text(SPEC.format(replicates=replicates))
    return path


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """Value-for-value equality, ignoring only the wall-clock seconds of each run."""
    pd.testing.assert_frame_equal(a.drop(columns=["seconds"], errors="ignore"), b.drop(columns=["seconds"], errors="ignore"), check_exact=True)


@pytest.fixture(scope="module")
def experiment(tmp_path_factory: pytest.TempPathFactory) -> Experiment:
    """Two arms x 3 replicates at 5 000 consumers (a few seconds in all)."""
    return load_experiment(_spec(tmp_path_factory.mktemp("spec"), 3))


@pytest.fixture(scope="module")
def serial(experiment: Experiment):
    """The reference: every run in this process, results kept in memory."""
    return run_experiment(experiment, workers=1, progress=False)


def test_serial_run_is_complete_and_reproducible(serial, experiment: Experiment) -> None:
    assert (serial.runs["status"] == "done").all() and len(serial.runs) == 6
    assert serial.runs["market.total_sales"].gt(0).all()
    # common random numbers: the two arms share seeds but not outcomes
    assert list(serial.runs["seed"][:3]) == list(serial.runs["seed"][3:])
    again = run_experiment(experiment, workers=1, progress=False)
    _same(serial.runs, again.runs)
    _same(serial.monthly, again.monthly)


def test_two_local_workers_give_identical_results(serial, experiment: Experiment, tmp_path: Path) -> None:
    parallel = run_experiment(experiment, workers=2, out=tmp_path, progress=False)
    assert parallel.meta["executor"] == "JoblibExecutor" and parallel.meta["workers"] == 2
    _same(serial.runs, parallel.runs)
    _same(serial.monthly, parallel.monthly)


def test_dask_local_cluster_gives_identical_results(serial, experiment: Experiment) -> None:
    pytest.importorskip("distributed")
    from distributed import Client

    with local_cluster(n_workers=2, dashboard_address=None) as cluster, Client(cluster) as client:
        env = client.run(lambda: os.environ.get("OMP_NUM_THREADS"))
        assert set(env.values()) == {"1"}  # NumPy single-threaded on every worker
        on_dask = run_experiment(experiment, scheduler=client, progress=False)
        by_address = run_experiment(experiment.with_size(replicates=1), scheduler=cluster.scheduler_address, progress=False)
    assert on_dask.meta["executor"] == "DaskExecutor" and on_dask.meta["workers"] == 2
    _same(serial.runs, on_dask.runs)
    _same(serial.monthly, on_dask.monthly)
    _same(serial.runs[serial.runs["replicate"] == 0].reset_index(drop=True), by_address.runs)


KILLABLE = """
import sys
from simsales.experiments import load_experiment, run_experiment
run_experiment(load_experiment(sys.argv[1]), out=sys.argv[2], workers=1, progress=False)
"""


def test_sigkill_part_way_then_restart_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    spec = _spec(tmp_path, 5)
    out = tmp_path / "results"
    runs_dir = out / "runs"
    proc = subprocess.Popen([sys.executable, "-c", KILLABLE, str(spec), str(out)])
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(list(runs_dir.rglob("*.parquet"))) < 3:
            assert proc.poll() is None, "the experiment ended before it could be killed"
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    finished = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in runs_dir.rglob("*.parquet")}
    assert 3 <= len(finished) < 10, "kill should land part-way"

    experiment = load_experiment(spec)
    resumed = run_experiment(experiment, out=out, workers=1, progress=False)
    # no finished run was lost or redone: files written before the kill are untouched
    for path, (stamp, content) in finished.items():
        assert path.stat().st_mtime_ns == stamp and path.read_bytes() == content
    # none duplicated: one row and one file per arm x replicate, all done
    assert resumed.runs["run_id"].is_unique and len(resumed.runs) == 10
    assert (resumed.runs["status"] == "done").all()
    assert len(list(runs_dir.rglob("*.parquet"))) == 10
    assert not list(out.rglob("*.tmp-*"))
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == {"done": 10}
    # and the final table equals an uninterrupted run
    fresh = run_experiment(experiment, workers=1, progress=False)
    _same(fresh.runs, resumed.runs)
    _same(fresh.monthly, resumed.monthly)


def test_cli_and_python_api_return_the_same_objects(serial, experiment: Experiment, tmp_path: Path, capsys) -> None:
    spec = experiment.source
    args = argparse.Namespace(
        spec=spec, out=tmp_path / "cli", workers=1, scheduler=None, smoke=False, replicates=None, max_replicates=None, consumers=None,
        days=None, warmup_days=None, no_retry=False, no_report=True, quiet=True, no_warm_start=False,
    )  # fmt: skip
    from_cli = run_from_args(args)
    assert from_cli.experiment == experiment
    _same(serial.runs, from_cli.runs)
    # the command itself: prints the differences, writes the report and its plots
    assert main(["experiment", str(spec), "--out", str(tmp_path / "cli"), "--workers", "1", "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "paired differences" in printed and "wtp_up" in printed
    report = (tmp_path / "cli" / "report.md").read_text()
    assert "Does a stronger NEV premium change sales?" in report and "SeedSequence(11)" in report
    assert (tmp_path / "cli" / "forest.png").stat().st_size > 5_000
    assert (tmp_path / "cli" / "fan_deliveries.png").is_file()
    # bad input and a results directory in use end with exit code 2 and a one-line error
    assert main(["experiment", str(tmp_path / "missing.toml")]) == 2
    (tmp_path / "cli" / "lock").write_text("1")
    assert main(["experiment", str(spec), "--out", str(tmp_path / "cli"), "--workers", "1", "--quiet"]) == 2
    assert "in use by process 1" in capsys.readouterr().err


def test_results_reread_from_disk_equal_the_in_memory_tables(serial, experiment: Experiment, tmp_path: Path) -> None:
    run_experiment(experiment, out=tmp_path, workers=1, progress=False)
    kpis = pd.read_parquet(tmp_path / "kpis.parquet")
    monthly = pd.read_parquet(tmp_path / "monthly.parquet")
    _same(serial.runs, kpis)
    _same(serial.monthly, monthly)
    assert Arm("baseline") == experiment.arms[0]


def test_a_finished_run_leaves_no_model_alive_in_the_worker(experiment: Experiment) -> None:
    import gc

    from simsales.experiments import plan
    from simsales.model import MarketModel
    from simsales.runs import execute_task

    def alive() -> int:
        gc.collect()
        return sum(isinstance(o, MarketModel) for o in gc.get_objects())

    before = alive()
    for task in plan(experiment)[:2]:
        assert execute_task(task).status == "done"
    assert alive() == before  # Mesa 3.3's Agent._ids would otherwise keep every model (and its arrays)
