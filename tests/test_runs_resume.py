"""Both clients of the run layer on the real model: `simsales calibrate` and `simsales experiment`
killed with SIGKILL part-way resume to the results of an uninterrupted run, and a calibration
runs on a Dask LocalCluster with the numbers of a serial one.  Tiny models keep this fast.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from simsales.cli import main

CLI = "import sys; from simsales.cli import main; sys.exit(main(sys.argv[1:]))"
PARAMS_TOML = """
[parameters."journey.outside_utility"]
low = 0.8
high = 2.4

[parameters."journey.showroom_sessions"]
low = 15
high = 60
scale = "log"
"""
SPEC = """
name = "resume_test"
replicates = 3
root_seed = 5
kpis = ["market.total_sales", "market.nev_share"]
[run]
n_consumers = 2000
days = 30
warmup_days = 30
[[arms]]
name = "baseline"
[[arms]]
name = "wtp_up"
params = { "population.nev_wtp_mean" = 0.25 }
"""


def _baseline_path() -> str:
    from simsales._paths import default_scenario_path

    return str(default_scenario_path())


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("inputs")
    (folder / "params.toml").write_text(PARAMS_TOML)
    (folder / "tiny.toml").write_text(f'extends = "{_baseline_path()}"\n[run]\nwarmup_days = 30\ndays = 60\nn_consumers = 2000\n')
    (folder / "exp_resume.toml").write_text(SPEC)
    return {"params": folder / "params.toml", "scenario": folder / "tiny.toml", "spec": folder / "exp_resume.toml"}


def kill_part_way(args: list[str], runs: Path, at_least: int) -> dict[Path, tuple[int, bytes]]:
    """Start the command in a subprocess, SIGKILL it once `at_least` run files exist; the files written before."""
    proc = subprocess.Popen([sys.executable, "-c", CLI, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and len(list(runs.rglob("*.parquet"))) < at_least:
            assert proc.poll() is None, "the command ended before it could be killed"
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    return {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in runs.rglob("*.parquet")}


def assert_untouched(finished: dict[Path, tuple[int, bytes]]) -> None:
    """Runs finished before the kill were neither lost nor redone."""
    for path, (stamp, content) in finished.items():
        assert path.stat().st_mtime_ns == stamp and path.read_bytes() == content


def test_calibrate_command_resumes_after_sigkill_with_identical_results(inputs: dict[str, Path], tmp_path: Path) -> None:
    def args(out: Path) -> list[str]:
        return ["calibrate", "--scenario", str(inputs["scenario"]), "--parameters", str(inputs["params"]), "--budget", "3",
                "--explore", "2", "--batch", "1", "--seeds", "2", "--report-seeds", "2", "--sensitivity-seeds", "0",
                "--select", "1", "--jobs", "1", "--out", str(out)]

    straight = tmp_path / "straight"
    assert main(args(straight)) == 0
    # 3 candidates x 2 seeds, the selected one on 2 fresh seeds, the report's 2 seeds: 10 runs, or 8
    # when the fit is the starting point (its report runs are the hand-set ones, not repeated)
    runs = len(list((straight / "checkpoint" / "runs").rglob("*.parquet")))
    assert runs in (8, 10)
    killed = tmp_path / "killed"
    finished = kill_part_way(args(killed), killed / "checkpoint" / "runs", 3)
    assert 3 <= len(finished) < runs, f"the kill should land part-way ({runs} runs in all)"
    assert main(args(killed)) == 0
    assert_untouched(finished)
    assert len(list((killed / "checkpoint" / "runs").rglob("*.parquet"))) == runs
    for name in ("report_targets.csv",):
        pd.testing.assert_frame_equal(pd.read_csv(killed / name), pd.read_csv(straight / name), check_exact=True)
    pd.testing.assert_frame_equal(pd.read_parquet(killed / "ensemble_2023.parquet"), pd.read_parquet(straight / "ensemble_2023.parquet"))
    fitted = [(folder / "fitted_2023.toml").read_text().split("[calibration]")[0] for folder in (killed, straight)]
    assert fitted[0] == fitted[1]


def test_experiment_command_resumes_after_sigkill_with_identical_results(inputs: dict[str, Path], tmp_path: Path) -> None:
    def args(out: Path) -> list[str]:
        return ["experiment", str(inputs["spec"]), "--out", str(out), "--workers", "1", "--quiet", "--no-report"]

    killed = tmp_path / "killed"
    finished = kill_part_way(args(killed), killed / "runs", 2)
    assert 2 <= len(finished) < 6, "the kill should land part-way (6 runs in all)"
    assert main(args(killed)) == 0
    assert_untouched(finished)
    straight = tmp_path / "straight"
    assert main(args(straight)) == 0
    for table in ("kpis.parquet", "monthly.parquet"):
        a, b = (pd.read_parquet(folder / table).drop(columns=["seconds"], errors="ignore") for folder in (killed, straight))
        pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_calibration_on_a_dask_local_cluster_matches_a_serial_one(inputs: dict[str, Path]) -> None:
    pytest.importorskip("distributed")
    from distributed import Client

    from simsales.calibration import build_setup, calibrate
    from simsales.runs import local_cluster

    setup = build_setup(scenario=inputs["scenario"], parameters=inputs["params"], seeds=(1, 2), budget=3, explore=2, batch=1)
    options = {"report_seeds": (1001, 1002), "sensitivity_seeds": 0, "select": 1, "check_start": False}
    serial = calibrate(setup, None, jobs=1, **options)
    with local_cluster(n_workers=2, dashboard_address=None) as cluster, Client(cluster) as client:
        on_dask = calibrate(setup, None, scheduler=client, **options)
    assert on_dask.store is not None and len(on_dask.store.entries()) == len(serial.store.entries()) == 8
    cols = list(serial.result.candidates.columns)
    pd.testing.assert_frame_equal(serial.result.candidates[cols], on_dask.result.candidates[cols], check_exact=True)
    pd.testing.assert_frame_equal(serial.check, on_dask.check, check_exact=True)
