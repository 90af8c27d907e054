"""Every bad command-line input is refused before any simulation: non-zero exit, no traceback, the flag or file named.

Also: `simsales calibrate` with defaults leaves the shipped fit alone, shipped files have names that
work from any folder, and `simsales run FILE` compares over paired replicates with intervals.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from simsales._paths import default_file
from simsales.cli import main

EXPERIMENTS = Path(__file__).parents[1] / "experiments"


def call(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Exit code and everything printed; argparse's own refusals (SystemExit) count as exits."""
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.fixture()
def no_simulation(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if a model is ever stepped: bad input must be refused before that."""
    from simsales.model import MarketModel

    def refuse(self: MarketModel, *args: object, **kwargs: object) -> None:
        raise AssertionError("a simulation started before the bad input was refused")

    monkeypatch.setattr(MarketModel, "run_model", refuse)
    monkeypatch.setattr(MarketModel, "step", refuse)


def _bad_inputs(tmp: Path) -> list[tuple[list[str], str]]:
    folder = tmp / "a_folder"
    folder.mkdir()
    binary = tmp / "binary.toml"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff\xfe\x00" * 8)
    existing = tmp / "existing.txt"
    existing.write_text("keep me")
    under_file = existing / "sub"  # a folder cannot be made under a file
    small = ["--consumers", "2000", "--days", "5"]
    return [
        (["run", str(folder), *small], str(folder)),
        (["run", str(binary), *small], str(binary)),
        (["validate", str(folder)], str(folder)),
        (["show", str(binary)], str(binary)),
        (["run", "--seed", "-1", *small], "--seed"),
        (["run", "--days", "0"], "--days"),
        (["run", "--consumers", "0"], "--consumers"),
        (["run", "--consumers", "lots"], "--consumers"),
        (["run", "--replicates", "0", *small], "--replicates"),
        (["run", "--out", str(existing), *small], "--out"),
        (["run", "--out", str(under_file), *small], "--out"),
        (["run", "--consumers", "10000000000", "--days", "5"], "--consumers"),
        (["run", "--days", "100000000", "--consumers", "1000"], "--days"),
        (["experiment", "exp_strategies", "--smoke", "--warmup-days", "-1"], "--warmup-days"),
        (["run", "strategy_ai_custmer_service", *small], "did you mean 'shipped:strategy_ai_customer_service'"),
        (["run", "shipped:baseline_2024", *small], "did you mean 'shipped:baseline_2023'"),
        (["experiment", "exp_strategie"], "did you mean 'exp_strategies'"),
        (["experiment", str(folder)], str(folder)),
        (["experiment", "exp_strategies", "--smoke", "--out", str(existing)], "--out"),
        (["experiment", "exp_strategies", "--smoke", "--out", str(under_file)], "--out"),
        (["experiment", "exp_strategies", "--smoke", "--workers", "0"], "--workers"),
        (["experiment", "exp_strategies", "--smoke", "--replicates", "0"], "--replicates"),
        (["experiment", "exp_strategies", "--smoke", "--consumers", "-5"], "--consumers"),
        (["experiment", "exp_strategies", "--smoke", "--consumers", "10000000000", "--out", str(tmp / "e")], "--consumers"),
        (["calibrate", "--jobs", "0"], "--jobs"),
        (["calibrate", "--budget", "0"], "--budget"),
        (["calibrate", "--budget", "-3"], "--budget"),
        (["calibrate", "--seed", "-1"], "--seed"),
        (["calibrate", "--out", str(existing)], "--out"),
        (["calibrate", "--out", str(default_file("calibration"))], "--update-shipped"),
    ]


def test_every_bad_input_is_refused_naming_the_flag_or_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_simulation: None
) -> None:
    for argv, named in _bad_inputs(tmp_path):
        code, text = call(argv, capsys)
        assert code != 0, argv
        assert "Traceback" not in text, (argv, text)
        assert named in text, (argv, text)
        assert "overrides" not in text, (argv, text)  # flags are named as flags, not as 'overrides'
    assert (tmp_path / "existing.txt").read_text() == "keep me"


def test_an_unreachable_scheduler_is_refused_before_any_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, no_simulation: None
) -> None:
    pytest.importorskip("distributed")
    import simsales.commands.checks as command  # where the scheduler timeout of both commands lives

    monkeypatch.setattr(command, "SCHEDULER_TIMEOUT", 1.0)
    started = time.perf_counter()
    code, text = call(["experiment", "exp_strategies", "--smoke", "--scheduler", "tcp://127.0.0.1:9", "--out", str(tmp_path / "e")], capsys)
    assert code == 2 and "--scheduler" in text and "Traceback" not in text
    assert time.perf_counter() - started < 30


def test_the_installed_script_prints_no_traceback(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("simsales")
    command = [str(script)] if script.is_file() else [sys.executable, "-m", "simsales.cli"]
    proc = subprocess.run([*command, "run", str(tmp_path)], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and str(tmp_path) in proc.stderr


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from simsales import __version__

    code, text = call(["--version"], capsys)
    assert code == 0 and text.strip() == f"simsales {__version__}"


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_calibrate_with_defaults_leaves_the_shipped_fit_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The calibration itself is replaced by a stand-in; what is checked is where its outputs go."""
    import simsales.calibration as calibration

    shipped = default_file("calibration")
    before = _digest(shipped)
    seen: dict[str, Path] = {}

    def fake_calibrate(setup: object, checkpoint: Path, **kwargs: object) -> SimpleNamespace:
        seen["checkpoint"] = Path(checkpoint)
        return SimpleNamespace(store=None, timings={}, result=SimpleNamespace(best=0), report_n=2000)

    def fake_write(calib: object, out: Path, meta: dict) -> dict[str, Path]:
        seen["out"] = Path(out)
        path = Path(out) / "fitted_2023.toml"
        path.write_text("# stand-in\n")
        return {"fitted": path}

    monkeypatch.setattr(calibration, "calibrate", fake_calibrate)
    monkeypatch.setattr(calibration, "write_outputs", fake_write)
    monkeypatch.setattr(calibration, "target_table", lambda calib: pd.DataFrame({"within": [True]}))
    monkeypatch.chdir(tmp_path)
    code, text = call(["calibrate", "--budget", "4"], capsys)
    assert code == 0, text
    assert seen["out"].resolve() == (tmp_path / "out" / "calibration").resolve()
    assert seen["checkpoint"].resolve().is_relative_to(tmp_path.resolve())
    assert (tmp_path / "out" / "calibration" / "fitted_2023.toml").is_file()
    assert _digest(shipped) == before
    # the shipped folder is the target only when asked for by name
    from simsales.commands.calibrate import output_folder

    assert output_folder(None, True) == shipped


def test_the_readme_scenario_example_runs_from_a_fresh_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    section = readme.split("## Scenario files: shocks, strategies and risk plans", 1)[1]
    (tmp_path / "my_scenario.toml").write_text(section.split("```toml\n", 1)[1].split("```", 1)[0])
    here = os.getcwd()
    try:
        os.chdir(tmp_path)
        code, text = call(["validate", "my_scenario.toml"], capsys)
        assert code == 0 and "ok: my_scenario.toml" in text, text
        code, text = call(["show", "my_scenario.toml"], capsys)
        assert code == 0 and 'kind = "clearance"' in text
    finally:
        os.chdir(here)


def test_shipped_names_work_in_the_python_api_as_in_the_cli() -> None:
    from simsales.experiments import Arm
    from simsales.experiments.spec import load_arm_scenario
    from simsales.scenario import load_scenario

    by_path = load_scenario(EXPERIMENTS / "strategy_ai_customer_service.toml")
    assert load_scenario("shipped:strategy_ai_customer_service") == by_path
    assert load_scenario("strategy_ai_customer_service") == by_path
    assert load_arm_scenario(Arm("ai", scenario="strategy_ai_customer_service")) == by_path
    assert load_arm_scenario(Arm("ai", scenario="shipped:strategy_ai_customer_service.toml")) == by_path


def test_run_compares_over_paired_replicates_with_intervals(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    short = tmp_path / "short_demand_drop.toml"  # a short warm-up keeps the 10 runs below quick
    short.write_text('extends = "shipped:shock_demand_drop"\n[run]\nwarmup_days = 30\ndays = 190\n')
    argv = ["run", str(short), "--consumers", "2000", "--seed", "3", "--workers", "1"]
    code, text = call([*argv, "--replicates", "3"], capsys)
    assert code == 0, text
    assert "3 paired replicates" in text and "95% interval" in text
    table = text.split("95% interval", 2)[2]
    sales = next(line for line in table.splitlines() if line.startswith("market.total_sales "))
    low, high = (float(v) for v in sales.split("[", 1)[1].split("]", 1)[0].split(","))
    change = float(sales.split()[5])
    assert low <= change <= high
    assert ("*" in sales) == (low > 0 or high < 0)
    code, text = call([*argv, "--replicates", "1"], capsys)
    assert code == 0
    assert "ONE seed only" in text and "no interval" in text
    sales = next(line for line in text.splitlines() if line.startswith("market.total_sales ") and "million units" in line and "[" not in line)
    assert "*" not in sales
