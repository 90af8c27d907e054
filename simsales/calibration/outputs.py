"""Writing a calibration's results: fitted parameters, ensemble, figures and the report."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from simsales.calibration.api import Calibration, target_table
from simsales.calibration.fitted import code_version, write_fitted
from simsales.calibration.report import render
from simsales.runs import STATUS_DONE, STATUS_FAILED, atomic_write, atomic_write_text, code_hash

FITTED_HEADER = """Fitted parameters applied on top of experiments/baseline_2023.toml (via its `fitted` key).
Written by `simsales calibrate`; do not edit by hand - re-run the command (see calibration/report.md).
[calibration] records how these values were obtained."""


def write_outputs(calib: Calibration, out: str | Path, meta: dict[str, Any], *, fitted_name: str = "fitted_2023.toml",
                  ensemble_name: str = "ensemble_2023.parquet") -> dict[str, Path]:
    """Write fitted file, ensemble, figures and report.md into `out`; returns the paths."""
    from simsales.calibration import figures as figs  # matplotlib only when figures are drawn

    folder = Path(out)
    (folder / "figures").mkdir(parents=True, exist_ok=True)
    setup, result = calib.setup, calib.result
    table = target_table(calib)
    version = code_version()
    identity = code_hash()
    # runs planned with this code (a checkpoint may also hold runs of older code, never reused)
    entries = [r for r in (calib.store.entries().values() if calib.store is not None else []) if r.get("code_hash") == identity]
    records = [r for r in entries if r.get("status") == STATUS_DONE]
    failed = sum(1 for r in entries if r.get("status") == STATUS_FAILED)
    seconds = [r["seconds"] for r in records if "seconds" in r]
    cpu = [r["cpu_seconds"] for r in records if "cpu_seconds" in r]
    timed = [(r["finished"] - r["seconds"], r["finished"]) for r in records if r.get("finished")]
    elapsed = (max(t for _, t in timed) - min(t for t, _ in timed)) / 60 if timed else float("nan")
    other = sum(1 for r in records if r.get("code", identity) != identity)
    code_note = (f"every run executed the code the runs are keyed on ({identity})." if not other else
                 f"WARNING: {other} of {len(records)} runs executed other simulation code than {identity} "
                 "(the code changed during the calibration); re-run from a fresh checkpoint.")
    if failed:
        code_note += f" {failed} runs failed (their KPIs count as missing; errors in the checkpoint's manifest.json)."
    invocations = calib.store.invocations() if calib.store is not None else []
    info = {
        "invocations": invocations,
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        **version,
        "runs_total": len(records),
        "mean_run_seconds": sum(seconds) / len(seconds) if seconds else float("nan"),
        "elapsed_minutes": elapsed,
        "cpu_minutes": sum(cpu) / 60 if len(cpu) == len(records) and cpu else float("nan"),
        "code_note": code_note,
        **meta,
    }
    paths: dict[str, Path] = {}
    ensemble = calib.ensemble
    paths["ensemble"] = folder / ensemble_name
    atomic_write(paths["ensemble"], lambda tmp: ensemble.to_parquet(tmp, index=False))
    fig_files = {
        "target vs simulated": figs.fit_dotplot(table, folder / "figures" / "fit_dotplot.png"),
        "convergence": figs.convergence(result.candidates, folder / "figures" / "convergence.png"),
        "ensemble": figs.ensemble_spread(ensemble, result.candidates, setup.space, folder / "figures" / "ensemble.png"),
    }
    if calib.sensitivity is not None:
        fig_files["identification"] = figs.identification(
            calib.sensitivity.jacobian, calib.sensitivity.summary, folder / "figures" / "identification.png")
    paths.update({f"figure:{k}": v for k, v in fig_files.items()})
    report = render(calib, info, {k: f"figures/{v.name}" for k, v in fig_files.items()})
    paths["report"] = folder / "report.md"
    atomic_write_text(paths["report"], report)
    metadata = {
        "date": info["date"],
        "simsales": info["simsales"],
        "git_commit": info["git_commit"],
        "objective": float(result.candidates.at[result.best, "objective"]),
        "objective_selection": float(calib.selection.at[result.best, "objective_all"]) if calib.selection is not None else float("nan"),
        "loss": setup.loss.name,
        "candidate": result.best,
        "seeds": list(setup.seeds),
        "n_consumers": setup.n_consumers,
        "budget": setup.plan.budget,
        "runs": len(records),
        "report_seeds": list(calib.report_seeds),
        "report_n_consumers": calib.report_n,
        "targets_within": int(table["within"].sum()),
        "targets_total": len(table),
        "holdout": list(setup.holdout),
        "ensemble_size": len(ensemble),
        "parameters_file": str(meta.get("parameters", "")),
        "targets_file": str(meta.get("targets", "")),
        "wall_minutes": round(float(meta.get("wall_minutes", 0.0)), 2),
        "checkpoint": str(calib.store.folder or "") if calib.store is not None else "",
        "model_code": identity,
        "runs_with_other_code": other,
    }
    paths["fitted"] = write_fitted(folder / fitted_name, calib.fitted, metadata, FITTED_HEADER)
    table.to_csv(folder / "report_targets.csv")
    return paths
