"""The first-experiment notebook runs end to end in a real Jupyter kernel (nbclient + ipykernel)."""

from __future__ import annotations

from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "01_first_experiment.ipynb"


def test_first_experiment_notebook_executes(tmp_path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError on the first failing cell
    outputs = "\n".join(
        str(out.get("text", "")) + str(out.get("data", {}).get("text/plain", ""))
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
    )
    assert "nev_taste" in outputs and "market.nev_share" in outputs
    assert "# Experiment: first_experiment" in outputs
    folder = tmp_path / "results" / "01_first_experiment"
    assert len(list((folder / "runs").rglob("*.parquet"))) == 8
    assert (folder / "report.md").is_file() and (folder / "forest.png").is_file()
    images = [out for cell in nb.cells if cell.cell_type == "code" for out in cell.get("outputs", []) if "image/png" in out.get("data", {})]
    assert len(images) == 2  # forest plot and fan chart
