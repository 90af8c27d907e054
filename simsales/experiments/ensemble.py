"""Parameter uncertainty: each replicate runs with a parameter set drawn from the calibration's ensemble.

The interface is a DataFrame with one row per accepted parameter set; columns whose names
contain a dot are scenario parameters (e.g. 'journey.outside_utility'), an optional 'weight'
column gives each row's probability, anything else is ignored.  Replicate i draws its row with
`simsales.runs.auxiliary_rng(root, i, ENSEMBLE_STREAM)`, so every arm gets the same draw for the same
replicate and adding replicates keeps earlier draws.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from simsales.calibration.ensemble import parameter_columns, pick_members
from simsales.runs.seeds import auxiliary_rng
from simsales.scenario import ScenarioError

ENSEMBLE_STREAM = 1


def check_ensemble(ensemble: pd.DataFrame, where: str | None = None) -> None:
    """Raise ScenarioError unless the ensemble has rows, parameter columns and usable weights."""
    if len(ensemble) == 0:
        raise ScenarioError("the parameter ensemble has no rows", file=where, key="ensemble")
    if not parameter_columns(ensemble):
        raise ScenarioError(
            "the parameter ensemble has no dotted parameter columns (e.g. 'journey.outside_utility')",
            file=where,
            key="ensemble",
        )
    if "weight" in ensemble.columns:
        w = ensemble["weight"].to_numpy(dtype=float)
        if not np.all(np.isfinite(w)) or (w < 0).any() or w.sum() <= 0:
            raise ScenarioError("weights must be finite, non-negative and not all zero", file=where, key="ensemble.weight")


def draw_member(ensemble: pd.DataFrame, root_seed: int, replicate: int) -> int:
    """Row position of the ensemble member replicate `replicate` uses (the draw rule of `pick_members`)."""
    return int(pick_members(ensemble, auxiliary_rng(root_seed, replicate, ENSEMBLE_STREAM)))


def load_ensemble_source(source: str | Path, where: str | None = None) -> pd.DataFrame:
    """An ensemble from 'calibration' (simsales.calibration.load_ensemble()) or a Parquet/CSV file."""
    if str(source) == "calibration":
        try:
            from simsales import calibration  # type: ignore[attr-defined]

            loader = calibration.load_ensemble
        except (ImportError, AttributeError) as exc:
            raise ScenarioError(
                "ensemble = 'calibration' needs simsales.calibration.load_ensemble(), which is not available",
                file=where,
                key="ensemble.source",
            ) from exc
        try:
            return loader()
        except FileNotFoundError as exc:
            raise ScenarioError(
                f"no calibration ensemble found ({exc.filename}); run `simsales calibrate` or give a file",
                file=where,
                key="ensemble.source",
            ) from exc
    path = Path(source)
    if not path.is_file():
        raise ScenarioError(f"ensemble file not found: {path}", file=where, key="ensemble.source")
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    if path.suffix == ".csv":
        return pd.read_csv(path)
    raise ScenarioError(f"ensemble file must be .parquet or .csv, got {path.name}", file=where, key="ensemble.source")
