"""`ExperimentResult`: the per-run tables of a finished experiment and everything reported from them.

Table format (chosen for paired comparisons): `runs` is *wide*, one row per arm x replicate with
columns run_id, arm, replicate, seed, status, error, seconds, ensemble_member, one column per
factor (factor name, or dotted parameter path for sampled designs) and one column per KPI id
(e.g. 'market.total_sales').  `kpis_long()` gives the tidy long form (arm, replicate, seed,
factors..., id, value).  `monthly` has one row per run x month: arm, replicate, seed, month and
every monthly series of `RunResult.monthly`, plus `focal_profit` (the focal firm's margin less its operating,
strategy and risk-plan costs, real units, yuan).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from simsales.experiments import stats
from simsales.experiments.spec import Experiment, Threshold
from simsales.runs import RunOutput

if TYPE_CHECKING:
    from simsales.experiments.engine import ArmTask

ID_COLUMNS = ("run_id", "arm", "replicate", "seed", "status", "error", "seconds", "ensemble_member")


def build_tables(experiment: Experiment, tasks: Sequence[ArmTask], outputs: dict[str, RunOutput]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The wide per-run KPI table and the per-run monthly table, in arm then replicate order."""
    factors = list(dict.fromkeys(k for arm in experiment.arms for k in arm.factors))
    arm_factors = {arm.name: arm.factors for arm in experiment.arms}
    kpi_ids: list[str] = list(dict.fromkeys(k for t in tasks if t.run_id in outputs for k in outputs[t.run_id].kpis))
    clash = set(factors) & (set(kpi_ids) | set(ID_COLUMNS))
    if clash:
        raise ValueError(f"factor names clash with KPI or id columns: {sorted(clash)}")
    rows, series = [], []
    for task in tasks:
        out = outputs.get(task.run_id)
        row: dict[str, Any] = {
            "run_id": task.run_id,
            "arm": task.arm,
            "replicate": task.replicate,
            "seed": task.seed,
            "status": out.status if out is not None else "pending",
            "error": out.error if out is not None else None,
            "seconds": out.seconds if out is not None else np.nan,
            "ensemble_member": task.ensemble_member,
        }
        for f in factors:
            row[f] = arm_factors[task.arm].get(f)
        for k in kpi_ids:
            row[k] = out.kpis.get(k, np.nan) if out is not None else np.nan
        rows.append(row)
        if out is not None and out.monthly is not None:
            m = out.monthly.copy()
            m.insert(0, "seed", task.seed)
            m.insert(0, "replicate", task.replicate)
            m.insert(0, "arm", task.arm)
            series.append(m)
    runs = pd.DataFrame(rows, columns=[*ID_COLUMNS, *factors, *kpi_ids])
    runs["replicate"] = runs["replicate"].astype("int64")
    runs["seed"] = runs["seed"].astype("int64")
    runs["seconds"] = runs["seconds"].astype("float64")
    runs["ensemble_member"] = runs["ensemble_member"].astype("Int64")
    for k in kpi_ids:
        runs[k] = runs[k].astype("float64")
    monthly = pd.concat(series, ignore_index=True) if series else pd.DataFrame(columns=["arm", "replicate", "seed", "month"])
    return runs, monthly


@dataclass
class ExperimentResult:
    """Per-run tables of an experiment plus summaries, stress-test measures, plots and a report."""

    experiment: Experiment
    runs: pd.DataFrame
    monthly: pd.DataFrame
    folder: Path | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    # --- tables ---------------------------------------------------------------------------

    @property
    def baseline(self) -> str:
        """The reference arm."""
        return self.experiment.baseline_arm

    @property
    def seeds(self) -> list[int]:
        """Replicate seeds (the same for every arm)."""
        return list(self.meta.get("seeds") or dict.fromkeys(self.runs["seed"].tolist()))

    @property
    def kpi_ids(self) -> list[str]:
        """KPI columns of `runs`."""
        fixed = set(ID_COLUMNS) | set(self.factor_names)
        return [c for c in self.runs.columns if c not in fixed]

    @property
    def factor_names(self) -> list[str]:
        """Factor columns of `runs`."""
        return list(dict.fromkeys(k for arm in self.experiment.arms for k in arm.factors))

    def failures(self) -> pd.DataFrame:
        """Runs that raised: arm, replicate, seed and the error."""
        return self.runs.loc[self.runs["status"] == "failed", ["run_id", "arm", "replicate", "seed", "error"]]

    def kpis_long(self) -> pd.DataFrame:
        """Tidy long form of finished runs: arm, replicate, seed, factors..., id, value."""
        keep = ["arm", "replicate", "seed", *self.factor_names]
        ok = stats.done(self.runs)
        return ok.melt(id_vars=keep, value_vars=self.kpi_ids, var_name="id", value_name="value")

    def _kpis(self, kpis: Sequence[str] | None) -> list[str]:
        chosen = list(kpis) if kpis is not None else list(self.experiment.kpis)
        return [k for k in chosen if k in self.runs.columns]

    def summary(self, kpis: Sequence[str] | None = None) -> pd.DataFrame:
        """Mean, sd, 95% CI of the mean and the 2.5-97.5% range of single runs, per arm and KPI."""
        return stats.summarize(self.runs, self._kpis(kpis), self.experiment.arm_names)

    def differences(self, kpis: Sequence[str] | None = None, baseline: str | None = None) -> pd.DataFrame:
        """Paired difference of every arm to the baseline (same seeds) with 95% CIs, absolute and relative."""
        return stats.differences(self.runs, self._kpis(kpis), baseline or self.baseline, self.experiment.arm_names)

    def window_differences(
        self, series: Sequence[str] | None = None, start: str | None = None, end: str | None = None
    ) -> pd.DataFrame:
        """Paired differences of monthly series averaged over a date window (default: the experiment's window)."""
        exp = self.experiment
        return stats.window_differences(
            self.monthly,
            list(series) if series is not None else list(exp.window_series),
            self.baseline,
            start if start is not None else exp.window_start,
            end if end is not None else exp.window_end,
            exp.arm_names,
        )

    def breach_probabilities(self, thresholds: Sequence[Threshold] | None = None) -> pd.DataFrame:
        """P(breach) per arm and threshold (the experiment's thresholds by default), with Wilson 95% intervals."""
        chosen = self.experiment.thresholds if thresholds is None else tuple(thresholds)
        table = stats.breach_probabilities(self.runs, chosen, self.baseline, self.experiment.arm_names)
        return self._with_factors(table)

    def expected_shortfall(self, kpi: str | None = None, alpha: float | None = None) -> pd.DataFrame:
        """Value at risk and expected shortfall of a KPI (default: focal profit) per arm."""
        return self._with_factors(
            stats.expected_shortfall(
                self.runs,
                kpi or self.experiment.shortfall_kpi,
                self.experiment.shortfall_alpha if alpha is None else alpha,
                self.experiment.arm_names,
            )
        )

    def months_to_recover(self, series: str | None = None, tolerance: float = 0.10, smooth: int = 3) -> pd.DataFrame:
        """Per arm x replicate: months until a monthly series (trailing `smooth`-month mean) is back within
        ±tolerance of the baseline run with the same seed."""
        name = series or self.experiment.recovery_series
        if name not in self.monthly.columns:
            raise KeyError(f"monthly series {name!r} not recorded; available: {', '.join(self.monthly.columns[4:])}")
        return stats.months_to_recover(self.monthly, name, self.baseline, tolerance, self.experiment.arm_names, smooth)

    def sensitivity_indices(self, kpis: Sequence[str] | None = None) -> pd.DataFrame:
        """Sobol or Morris indices per KPI and parameter (only for experiments built from a SensitivityDesign)."""
        design = self.experiment.sensitivity
        if design is None:
            raise ValueError("this experiment has no sensitivity design")
        return design.analyze(self.runs, self._kpis(kpis))

    def _with_factors(self, table: pd.DataFrame) -> pd.DataFrame:
        if not self.factor_names or table.empty:
            return table
        labels = pd.DataFrame([{"arm": a.name, **dict(a.factors)} for a in self.experiment.arms])
        return labels.merge(table, on="arm", how="right")

    # --- outputs --------------------------------------------------------------------------

    def save(self, folder: str | Path) -> Path:
        """Write kpis.parquet, monthly.parquet and the summary tables as CSV into `folder`."""
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        self.runs.to_parquet(out / "kpis.parquet", index=False)
        self.monthly.to_parquet(out / "monthly.parquet", index=False)
        self.summary().to_csv(out / "summary.csv", index=False)
        if len(self.experiment.arms) > 1 and self.experiment.sensitivity is None:
            self.differences().to_csv(out / "differences.csv", index=False)
        if self.experiment.thresholds:
            self.breach_probabilities().to_csv(out / "breaches.csv", index=False)
        return out

    def report(self, folder: str | Path | None = None) -> Path:
        """Write report.md with its plots into `folder` (default: the results directory); returns the path."""
        from simsales.experiments.report import write_report

        target = Path(folder) if folder is not None else self.folder
        if target is None:
            raise ValueError("give a folder: this experiment has no results directory")
        return write_report(self, target)
