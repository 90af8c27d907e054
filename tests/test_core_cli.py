"""`simsales run`: prints simulated vs 2023 for every KPI and writes CSV, Parquet and PNG outputs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from simsales.cli import main
from simsales.kpis import REGISTRY

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def simsales_command() -> list[str]:
    """The installed console script next to this interpreter, else `python -m simsales.cli`."""
    script = Path(sys.executable).with_name("simsales")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "simsales.cli"]


@pytest.mark.timeout(120)
def test_simsales_run_prints_the_table_and_writes_outputs(tmp_path: Path) -> None:
    out = tmp_path / "out"
    env = {**os.environ, "MPLBACKEND": "Agg"}
    proc = subprocess.run(
        [*simsales_command(), "run", "--days", "30", "--consumers", "5000", "--seed", "3", "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    assert "simulated" in text and "2023" in text
    for key in REGISTRY:
        assert key in text, f"KPI {key} missing from the printed table"
    assert not any(line.endswith((" ok", " miss")) for line in text.splitlines())  # 30 days of 2023 are not scored against full-year figures
    assert "Not scored" in text
    kpis = pd.read_csv(out / "kpis.csv")
    assert list(kpis.columns) == ["id", "value", "unit", "target", "rel_error", "tolerance", "within", "note", "description"]
    assert kpis["within"].isna().all()
    assert kpis.set_index("id").at["market.total_sales", "unit"] == "million units"
    assert set(kpis["id"]) == set(REGISTRY)
    daily = pd.read_parquet(out / "daily.parquet")
    assert len(daily) == 30
    assert len(pd.read_parquet(out / "monthly.parquet")) == 1
    assert len(pd.read_parquet(out / "dealers.parquet")) >= 30
    for name in ("funnel", "sales", "stock"):
        png = out / f"{name}.png"
        assert png.read_bytes()[:8] == PNG_MAGIC, name


def test_bad_scenario_exits_with_code_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "bad"\n[journey]\nresearch_days = "long"\n')
    code = main(["run", str(bad), "--days", "5", "--consumers", "1000"])
    assert code == 2
    err = capsys.readouterr().err
    assert "error:" in err and str(bad) in err


def test_help_lists_the_run_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    assert "run" in capsys.readouterr().out
