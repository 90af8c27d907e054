"""Packaging: the built wheel ships the 2023 defaults and works from another directory.

Builds a wheel of this checkout (build isolation may fetch hatchling from the package
registry), installs it with `pip --target` into a temporary folder and imports it from a
different working directory, so neither the checkout nor an editable install can stand in.
Runs in CI with the rest of the suite (about 5-20 s).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

CHECK = """
import sys
import simsales
from simsales._paths import defaults_root
from simsales import MarketModel, load_scenario
target = sys.argv[1]
assert simsales.__file__.startswith(target), simsales.__file__
root = defaults_root()
assert root.name == "_defaults" and str(root).startswith(target), root
scenario = load_scenario()
assert scenario.name == "baseline_2023", scenario.name
model = MarketModel(n_consumers=2000, days=5, warmup_days=5, seed=1)
model.run_model()
print("OK", len(model.kpis()), root)
"""


def build_wheel(dest: Path) -> Path:
    """Build the wheel with `python -m build` if available, else `pip wheel --no-deps`."""
    if importlib.util.find_spec("build") is not None:
        cmd = [sys.executable, "-m", "build", "--wheel", "--outdir", str(dest), str(ROOT)]
    else:
        cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(dest), str(ROOT)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    wheels = list(dest.glob("simsales-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.mark.timeout(300)
def test_wheel_installs_and_runs_from_elsewhere(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path / "dist")
    names = zipfile.ZipFile(wheel).namelist()
    for default in (
        "simsales/_defaults/experiments/baseline_2023.toml",
        "simsales/_defaults/agents/products_2023.toml",
        "simsales/_defaults/calibration/targets_2023.toml",
    ):
        assert default in names, default
    assert not any(n.startswith(("agents/", "experiments/", "calibration/", "tests/")) for n in names)

    target = tmp_path / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(wheel)],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert install.returncode == 0, install.stderr[-2000:]

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(target), "MPLBACKEND": "Agg"}
    proc = subprocess.run(
        [sys.executable, "-c", CHECK, str(target)], capture_output=True, text=True, cwd=elsewhere, env=env, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.startswith("OK")
