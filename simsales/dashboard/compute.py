"""What the dashboard shows, as plain functions returning DataFrames (no UI code here).

The dashboard runs a chosen scenario next to the 2023 baseline as a small experiment (arms x
replicates with common random numbers, `simsales.experiments`), so every number it shows comes
from the same engine as `simsales experiment`: KPI means and intervals from `summary()`, strategy
and shock effects from the paired `differences()`.  This module only picks, scales and labels.

Everything a person sees is in real units: KPIs and the experiment's monthly series already are
(`simsales.units`: agent counts times `real_scale`, real households per consumer agent).
"""

from __future__ import annotations

import math
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from simsales._paths import default_file, defaults_root
from simsales.experiments import Arm, Experiment, ExperimentResult, SerialExecutor, plan, run_experiment
from simsales.experiments.spec import HEADLINE_KPIS
from simsales.kpis import REGISTRY, load_targets
from simsales.run import covers_target_year
from simsales.runs import RunOutput, RunTask
from simsales.scenario import Scenario, ScenarioError, load_scenario
from simsales.scenario.schema import DAYS_PER_MONTH
from simsales.units import real_scale

#: Name of the reference scenario (experiments/baseline_2023.toml) and of its arm.
BASELINE = "baseline_2023"
#: File-name prefixes of the shipped scenarios offered in the picker (exp_* files are experiments, not scenarios).
SCENARIO_PREFIXES = ("baseline_", "strategy_", "shock_", "riskplan_")
#: Funnel stages: label -> monthly flow columns summed (people or leads entering each stage).
FUNNEL_STAGES: dict[str, tuple[str, ...]] = {
    "Entered the market": ("entries",),
    "Leads (online + walk-in)": ("online_leads", "walkin_leads"),
    "Visited a store": ("store_visitors",),
    "Test drives": ("test_drives",),
    "Orders": ("orders",),
    "Deliveries": ("deliveries",),
}
#: Monthly series drawn against the baseline: id -> (label, columns summed, flow?).
MONTHLY_SERIES: dict[str, tuple[str, tuple[str, ...], bool]] = {
    "sales": ("Sales (deliveries)", ("deliveries",), True),
    "stock": ("Dealer stock at month end", ("stock_ICE", "stock_NEV"), False),
}


# --- scenarios ----------------------------------------------------------------------------------


def shipped_scenarios() -> list[str]:
    """Names of the scenario files shipped in experiments/ (baseline first, then strategies, shocks, risk plans)."""
    folder = defaults_root() / "experiments"
    names = sorted(p.stem for p in folder.glob("*.toml") if p.stem.startswith(SCENARIO_PREFIXES))
    return sorted(names, key=lambda n: (n != BASELINE, SCENARIO_PREFIXES.index(n.split("_")[0] + "_"), n))


def scenario_file(name: str) -> Path:
    """The shipped file of a scenario name; a ScenarioError listing the names when unknown."""
    names = shipped_scenarios()
    if name not in names:
        raise ScenarioError(f"unknown scenario {name!r}; shipped: {', '.join(names)}", key="scenario")
    return default_file(f"experiments/{name}.toml")


def stage_upload(filename: str, data: bytes, folder: Path | None = None) -> Path:
    """Save an uploaded scenario file so it reads as if it sat in experiments/, then validate it.

    The upload is written into a fresh folder laid out like the shipped defaults (agents/ and
    calibration/ linked, the shipped experiments/*.toml copied next to it), so `extends =
    "baseline_2023.toml"` and `"../agents/..."` references resolve as for a shipped file.
    Raises ScenarioError (naming the file and key) when it is not a valid scenario.
    """
    name = Path(filename).name
    if not name.endswith(".toml"):
        raise ScenarioError("upload a .toml scenario file", file=name)
    root = Path(folder) if folder is not None else Path(tempfile.mkdtemp(prefix="simsales-upload-"))
    root.mkdir(parents=True, exist_ok=True)
    shipped = defaults_root()
    for sub in ("agents", "calibration"):
        link = root / sub
        if not link.exists():
            link.symlink_to(shipped / sub, target_is_directory=True)
    experiments = root / "experiments"
    experiments.mkdir(parents=True, exist_ok=True)
    for src in (shipped / "experiments").glob("*.toml"):
        if src.name != name:
            shutil.copyfile(src, experiments / src.name)
    target = experiments / name
    target.write_bytes(data)
    load_scenario(target)  # validates: a ScenarioError names the file and key
    return target


# --- running ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """What the user picked: a scenario (shipped name or file path) and the size of the run.

    `days` / `warmup_days` None keep the scenario's own horizon; the scenario is run next to the
    2023 baseline with the same `replicates` seeds (drawn from `root_seed` as in every experiment).
    """

    scenario: str = BASELINE
    n_consumers: int = 20_000
    replicates: int = 3
    days: int | None = None
    warmup_days: int | None = None
    root_seed: int = 2023

    def scenario_path(self) -> Path:
        """The scenario's file: a shipped name or a path (e.g. a staged upload)."""
        if self.scenario.endswith(".toml"):
            return Path(self.scenario)
        return scenario_file(self.scenario)

    @property
    def label(self) -> str:
        """Arm name of the chosen scenario (its file stem)."""
        return self.scenario_path().stem

    def check(self) -> None:
        """Clear errors for sizes out of range, before anything runs."""
        if int(self.n_consumers) < 500:
            raise ScenarioError(f"must be at least 500, got {self.n_consumers}", key="consumers")
        if not 1 <= int(self.replicates) <= 50:
            raise ScenarioError(f"must be between 1 and 50, got {self.replicates}", key="replicates")
        if self.days is not None and int(self.days) < 1:
            raise ScenarioError(f"must be at least 1 (or empty for the scenario's own), got {self.days}", key="days")
        if self.warmup_days is not None and int(self.warmup_days) < 0:
            raise ScenarioError(f"must be >= 0, got {self.warmup_days}", key="warm-up days")


def build_experiment(settings: Settings) -> Experiment:
    """The baseline arm plus, unless it is the baseline itself, the chosen scenario's arm."""
    settings.check()
    path = settings.scenario_path()
    arms = [Arm(BASELINE, scenario=default_file(f"experiments/{BASELINE}.toml"))]
    if path.resolve() != default_file(f"experiments/{BASELINE}.toml").resolve():
        arms.append(Arm(settings.label if settings.label != BASELINE else f"{BASELINE}_upload", scenario=path))
    return Experiment(
        name=f"dashboard_{settings.label}",
        arms=tuple(arms),
        replicates=int(settings.replicates),
        root_seed=int(settings.root_seed),
        baseline=BASELINE,
        n_consumers=int(settings.n_consumers),
        days=None if settings.days is None else int(settings.days),
        warmup_days=None if settings.warmup_days is None else int(settings.warmup_days),
        source="dashboard",
    )


class ProgressExecutor(SerialExecutor):
    """Runs tasks in this process and reports (runs done, runs planned) after each one."""

    def __init__(self, on_progress: Callable[[int, int], None] | None = None) -> None:
        self.on_progress = on_progress

    def map_unordered(self, fn: Callable[[RunTask], RunOutput], tasks: Sequence[RunTask]) -> Iterator[RunOutput]:
        """Yield fn(task) in order, calling on_progress(done, total) after each run (warm-ups are not runs)."""
        if not all(isinstance(task, RunTask) for task in tasks):  # shared warm-ups before the arms' runs
            yield from super().map_unordered(fn, tasks)
            return
        total = len(tasks)
        if self.on_progress is not None:
            self.on_progress(0, total)
        for i, output in enumerate(super().map_unordered(fn, tasks), start=1):
            if self.on_progress is not None:
                self.on_progress(i, total)
            yield output


@dataclass
class DashboardResult:
    """A finished dashboard run: the experiment result, the focus arm and each arm's real-unit scale."""

    settings: Settings
    result: ExperimentResult
    focus: str
    scales: dict[str, float] = field(default_factory=dict)
    scenarios: dict[str, Scenario] = field(default_factory=dict)

    @property
    def baseline(self) -> str:
        """The reference arm (the 2023 baseline)."""
        return self.result.baseline

    @property
    def seeds(self) -> list[int]:
        """Replicate seeds, the same in every arm."""
        return self.result.seeds

    @property
    def scored(self) -> bool:
        """True when the recorded window covers the whole 2023 target year, so KPIs can be scored against it."""
        run = self.scenarios[self.focus].run
        window = pd.DataFrame({"date": pd.to_datetime([run.start_date, run.start_date + timedelta(days=run.days - 1)])})
        return covers_target_year(window)

    @property
    def compared(self) -> bool:
        """True when a scenario other than the baseline was run next to it."""
        return self.focus != self.baseline


def run_dashboard(settings: Settings, on_progress: Callable[[int, int], None] | None = None) -> DashboardResult:
    """Validate, then run the chosen scenario and the baseline over the same replicate seeds (in this process)."""
    experiment = build_experiment(settings)
    tasks = plan(experiment, 1)  # validates every arm before anything runs, and gives each arm's scenario
    scenarios = {t.arm: t.scenario for t in tasks}
    result = run_experiment(experiment, progress=False, executor=ProgressExecutor(on_progress))
    failed = result.failures()
    if not failed.empty:
        first = failed.iloc[0]
        raise RuntimeError(
            f"{len(failed)} run(s) failed; first ({first['arm']}, replicate {first['replicate']}): {first['error']}"
        )
    return DashboardResult(
        settings=settings,
        result=result,
        focus=experiment.arms[-1].name,
        scales={arm: real_scale(s.run) for arm, s in scenarios.items()},
        scenarios=scenarios,
    )


# --- tables -------------------------------------------------------------------------------------


def kpi_unit(kpi: str) -> str:
    """The unit a KPI is reported in (from the KPI registry)."""
    return REGISTRY[kpi].unit if kpi in REGISTRY else ""


def kpi_vs_target(dash: DashboardResult, kpis: Sequence[str] | None = None) -> pd.DataFrame:
    """Per KPI (default: every KPI with a 2023 target, headline KPIs first): the focus arm's mean over
    replicates with its 95% CI, the baseline's mean (same seeds), the 2023 target, the gap and whether
    the mean is within the target's tolerance (None when the run does not cover all of 2023: a partial
    year is not comparable with a full-year figure, as in `simsales run`)."""
    targets = load_targets()
    if kpis is None:
        with_target = [k for k in dash.result.kpi_ids if k in targets.index]
        kpis = [*[k for k in HEADLINE_KPIS if k in with_target], *[k for k in with_target if k not in HEADLINE_KPIS]]
    summary = dash.result.summary(kpis).set_index(["arm", "kpi"])
    rows = []
    for kpi in kpis:
        s = summary.loc[(dash.focus, kpi)]
        target = float(targets["value"].get(kpi, np.nan)) if kpi in targets.index else math.nan
        tolerance = float(targets["tolerance"].get(kpi, np.nan)) if kpi in targets.index else math.nan
        gap = (s["mean"] - target) / abs(target) if np.isfinite(target) and target != 0 else math.nan
        rows.append(
            {
                "kpi": kpi,
                "description": REGISTRY[kpi].description if kpi in REGISTRY else "",
                "unit": kpi_unit(kpi),
                "simulated": float(s["mean"]),
                "ci_low": float(s["ci_low"]),
                "ci_high": float(s["ci_high"]),
                "baseline": float(summary.loc[(dash.baseline, kpi), "mean"]),
                "target_2023": target,
                "gap": gap,
                "within": bool(np.isfinite(gap) and abs(gap) <= tolerance)
                if dash.scored and np.isfinite(target)
                else None,
                "n": int(s["n"]),
            }
        )
    return pd.DataFrame(rows)


def funnel(dash: DashboardResult) -> pd.DataFrame:
    """Per arm and stage: mean real count per year (millions, replicates averaged) entering each funnel stage."""
    monthly = dash.result.monthly  # real units already
    rows = []
    for (arm, _rep), grp in monthly.groupby(["arm", "replicate"], sort=False):
        days = float(grp["days"].sum())
        for stage, cols in FUNNEL_STAGES.items():
            total = float(grp[list(cols)].to_numpy().sum())
            rows.append({"arm": arm, "stage": stage, "value": total * 365.0 / days / 1e6})
    per_run = pd.DataFrame(rows)
    out = per_run.groupby(["arm", "stage"], sort=False)["value"].mean().reset_index()
    out["unit"] = "million a year"
    first = out[out["stage"] == next(iter(FUNNEL_STAGES))].set_index("arm")["value"]
    out["share_of_entrants"] = 100 * out["value"] / out["arm"].map(first)
    return out


def monthly_bands(dash: DashboardResult) -> pd.DataFrame:
    """Per series, arm and month: mean over replicates and the range (min-max) of single replicates, real units.

    Sales are deliveries per month (thousand cars, months of the recorded window scaled to a
    30.4-day month so a partial last month is comparable); stock is dealer stock at month end
    (thousand cars).
    """
    monthly = dash.result.monthly  # real units already
    frames = []
    for key, (label, cols, flow) in MONTHLY_SERIES.items():
        values = monthly[list(cols)].sum(axis=1) / 1e3
        if flow:
            values = values / monthly["days"] * DAYS_PER_MONTH
        frame = monthly[["arm", "replicate", "month"]].assign(value=values)
        stats = frame.groupby(["arm", "month"], sort=False)["value"].agg(["mean", "min", "max", "count"]).reset_index()
        stats.insert(0, "label", label)
        stats.insert(0, "series", key)
        stats["unit"] = "thousand cars" + (" / month" if flow else "")
        frames.append(stats)
    return pd.concat(frames, ignore_index=True).rename(columns={"min": "low", "max": "high", "count": "replicates"})


def effects(dash: DashboardResult, kpis: Sequence[str] = HEADLINE_KPIS) -> pd.DataFrame:
    """Paired differences of the focus arm to the baseline (same seeds) with 95% CIs, from the experiment engine,
    with each KPI's unit; empty when only the baseline was run."""
    if not dash.compared:
        return pd.DataFrame(columns=["arm", "kpi", "unit", "diff", "ci_low", "ci_high", "rel_diff", "significant"])
    out = dash.result.differences(list(kpis))
    out.insert(2, "unit", out["kpi"].map(kpi_unit))
    return out
