"""The three worked notebooks: each runs end to end in a real Jupyter kernel (nbclient + ipykernel) in smoke
mode, writes only where it is told, and is stored with the outputs of a full-size run.

SIMSALES_NOTEBOOK_SMOKE=1 shrinks every notebook's market and replicates (seconds, numbers meaningless);
SIMSALES_NOTEBOOK_OUT points their results outside the checkout.  Re-execute the stored notebooks at full
size with `make notebooks`.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "notebooks"

#: Per notebook: text its smoke run must print (a check that the analysis ran, not just the cells), the
#: figures it draws, and the results folder it writes under SIMSALES_NOTEBOOK_OUT (None: writes nothing).
EXPECTED = {
    "01_strategist_two_strategies.ipynb": (
        ["KPIs within their 2023 tolerance", "market.total_sales", "ai_customer_service", "incentive_reform",
         "unpaired / paired"],
        2,
        "01_strategist/smoke",
    ),
    "02_risk_tax_price_war_plan.ipynb": (
        ["exemption_capped_2024", "probability", "expected_shortfall", "window.focal_profit",
         "tax=phaseout,price_war=nev_minus_10pct,plan=market_and_inventory"],
        3,
        "02_risk/smoke",
    ),
    "03_academic_submodel_batch_run.ipynb": (
        ["weight 1 reproduces the shipped model", "reproduced exactly", "paired over"],
        2,
        None,
    ),
}


def _texts(nb: dict) -> str:
    """Everything the code cells printed or displayed, as text (plain and HTML)."""
    parts = []
    for cell in nb["cells"]:
        for out in cell.get("outputs", []) if cell["cell_type"] == "code" else []:
            parts.append("".join(out.get("text", "")))
            data = out.get("data", {})
            parts += ["".join(data.get(k, "")) for k in ("text/plain", "text/html")]
    return "\n".join(parts)


def _images(nb: dict) -> int:
    return sum("image/png" in out.get("data", {}) for c in nb["cells"] if c["cell_type"] == "code" for out in c["outputs"])


def test_each_notebook_is_listed() -> None:
    assert sorted(p.name for p in FOLDER.glob("*.ipynb")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_stored_notebook_has_full_size_outputs(name: str) -> None:
    """Stored executed, in order, without errors, with figures, from a full-size run (not a smoke run)."""
    nb = json.loads((FOLDER / name).read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    counts = [c["execution_count"] for c in code]
    assert counts == list(range(1, len(code) + 1)), f"{name}: cells not executed once, top to bottom: {counts}"
    errors = [o for c in code for o in c["outputs"] if o["output_type"] == "error"]
    assert not errors, f"{name}: stored with an error: {errors[0].get('ename')}: {errors[0].get('evalue')}"
    texts = _texts(nb)
    assert "full size" in texts and "SMOKE size" not in texts
    wanted, images, _ = EXPECTED[name]
    assert _images(nb) >= images
    for text in wanted:
        assert text in texts, f"{name}: stored outputs lack {text!r}"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_notebook_runs_in_smoke_mode(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    monkeypatch.setenv("SIMSALES_NOTEBOOK_SMOKE", "1")
    monkeypatch.setenv("SIMSALES_NOTEBOOK_OUT", str(tmp_path / "out"))
    monkeypatch.setenv("SIMSALES_NOTEBOOK_WORKERS", "1")
    before = sorted(p.name for p in FOLDER.iterdir())
    nb = nbformat.read(FOLDER / name, as_version=4)
    for cell in nb.cells:  # run from a clean slate: no stored output may satisfy the checks below
        if cell.cell_type == "code":
            cell.outputs = []
    start = time.perf_counter()
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(FOLDER)}})
    client.execute()  # raises CellExecutionError on the first failing cell, e.g. a failed reproduction assert
    seconds = time.perf_counter() - start
    texts = _texts(nb)
    assert "SMOKE size" in texts
    wanted, images, results = EXPECTED[name]
    for text in wanted:
        assert text in texts, f"{name}: smoke run did not print {text!r}"
    assert _images(nb) >= images
    if results is not None:
        assert list((tmp_path / "out" / results).rglob("*.parquet")), "results not written where SIMSALES_NOTEBOOK_OUT says"
    assert sorted(p.name for p in FOLDER.iterdir()) == before, "the notebook wrote into notebooks/"
    print(f"{name}: {seconds:.1f} s")
