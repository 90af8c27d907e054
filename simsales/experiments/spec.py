"""What an experiment is: arms x replicates over a horizon, plus what to report about them.

Plain frozen dataclasses, built in Python or from an `experiments/exp_*.toml` file
(`simsales.experiments.files`).  Nothing here runs a simulation: `resolve_arm` turns an arm into
a validated `Scenario` so bad input fails with a `ScenarioError` before any run starts.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from simsales.recorder import DERIVED, FLOWS, LEVELS
from simsales.scenario import Scenario, ScenarioError, load_scenario
from simsales.scenario.compose import compose_files
from simsales.scenario.errors import did_you_mean
from simsales.scenario.events import EVENT_SECTIONS
from simsales.scenario.loader import convert_value

if TYPE_CHECKING:
    import pandas as pd

    from simsales.experiments.sensitivity import SensitivityDesign

#: KPIs reported by default: market, focal firm, stock and customers.
HEADLINE_KPIS: tuple[str, ...] = (
    "market.total_sales",
    "market.nev_share",
    "focal.market_share",
    "focal.gross_margin",
    "focal.profit",
    "inventory.stock_coefficient",
    "consumer.satisfaction",
    "journey.lead_conversion",
)

#: Monthly series compared over a date window (`Experiment.window_start`): volumes, margin, profit, stock.
WINDOW_SERIES: tuple[str, ...] = ("deliveries", "deliveries_focal", "focal_gross_margin", "focal_profit", "stock_coefficient")

#: Every monthly series a run reports (recorder flows, levels and ratios, plus `focal_profit` from
#: `simsales.runs.tasks.normalise_monthly`): what `window_series` and `recovery_series` may name.
MONTHLY_SERIES: tuple[str, ...] = (*FLOWS, *LEVELS, *DERIVED, "focal_profit")

ARM_NAME = re.compile(r"^[A-Za-z0-9_.=,+-]+$")


ScenarioRef = Scenario | str | Path | None


@dataclass(frozen=True)
class Arm:
    """One treatment: a scenario (file, object or None = 2023 baseline) plus dotted parameter overrides.

    `scenario` may also be a tuple of files layered in order (e.g. a shock file and a risk-plan
    file, see `simsales.scenario.compose`).  `params` keys are dotted paths, or one of
    `shocks`, `strategies`, `risk_rules` with a list of event tables added to the scenario's own.
    `factors` labels the arm in result tables (factor name -> level or parameter value).
    """

    name: str
    scenario: ScenarioRef | tuple[str | Path, ...] = None
    params: Mapping[str, Any] = field(default_factory=dict)
    factors: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not ARM_NAME.match(self.name):
            raise ScenarioError(
                f"arm name {self.name!r} must be letters, digits or _ . = , + -", key="arms.name"
            )


@dataclass(frozen=True)
class Threshold:
    """A breach condition on a KPI, e.g. stock coefficient above 1.5, or focal margin 20% below baseline.

    With `relative=True` the KPI's relative change against the baseline arm's run with the same
    seed, (x - x_base) / |x_base|, is compared instead of the level.
    """

    kpi: str
    op: Literal[">", ">=", "<", "<="]
    value: float
    relative: bool = False
    label: str = ""

    def describe(self) -> str:
        """Readable form, e.g. 'inventory.stock_coefficient > 1.5'."""
        if self.label:
            return self.label
        if self.relative:
            return f"{self.kpi} change vs baseline {self.op} {self.value:+.0%}"
        return f"{self.kpi} {self.op} {self.value:g}"


@dataclass(frozen=True)
class Adaptive:
    """Add `batch` replicates to every arm until each difference's CI is narrower than its target, or the cap.

    `target_width` maps KPI id -> largest allowed full width (ci_high - ci_low) of the paired
    difference to the baseline; `target_rel_width` is the same as a fraction of the baseline mean,
    applied to every headline KPI not listed in `target_width`.
    """

    max_replicates: int
    batch: int = 4
    target_width: Mapping[str, float] = field(default_factory=dict)
    target_rel_width: float | None = None

    def __post_init__(self) -> None:
        for key in ("max_replicates", "batch"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
                raise ScenarioError(f"must be a whole number >= 1, got {value!r}", key=f"adaptive.{key}")
        if self.target_rel_width is not None and not self.target_rel_width > 0:
            raise ScenarioError(f"must be > 0, got {self.target_rel_width!r}", key="adaptive.target_rel_width")


@dataclass(frozen=True)
class Experiment:
    """Arms x replicates over a horizon, with common random numbers across arms.

    `n_consumers`, `days` and `warmup_days` override every arm's scenario (None keeps it).
    `ensemble`, when given, is a DataFrame whose dotted-name columns are parameter values (one
    row per accepted parameter set, optional `weight` column); replicate i draws one row, the same
    for every arm.  `runner` replaces `simsales.run` (a picklable callable with the same signature).
    KPIs cover each run's whole recorded horizon; `window_start`/`window_end` (ISO dates) add
    paired differences of monthly series over a window, e.g. after a strategy's roll-out.
    """

    name: str
    arms: tuple[Arm, ...]
    replicates: int = 10
    root_seed: int = 2023
    baseline: str | None = None
    n_consumers: int | None = None
    days: int | None = None
    warmup_days: int | None = None
    kpis: tuple[str, ...] = HEADLINE_KPIS
    question: str = ""
    thresholds: tuple[Threshold, ...] = ()
    shortfall_kpi: str = "focal.profit"
    shortfall_alpha: float = 0.1
    recovery_series: str = "focal_gross_margin"
    window_start: str | None = None
    window_end: str | None = None
    window_series: tuple[str, ...] = WINDOW_SERIES
    ensemble: pd.DataFrame | None = field(default=None, compare=False)
    adaptive: Adaptive | None = None
    sensitivity: SensitivityDesign | None = None
    runner: Callable[..., Any] | None = field(default=None, compare=False)
    source: str | None = None

    def __post_init__(self) -> None:
        where = self.source
        if not self.arms:
            raise ScenarioError("an experiment needs at least one arm", file=where, key="arms")
        names = [a.name for a in self.arms]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ScenarioError(f"duplicate arm names: {dupes}", file=where, key="arms")
        if self.baseline is not None and self.baseline not in names:
            raise ScenarioError(
                f"baseline {self.baseline!r} is not an arm; arms: {', '.join(names)}", file=where, key="baseline"
            )
        if isinstance(self.replicates, bool) or not isinstance(self.replicates, numbers.Integral) or self.replicates < 1:
            raise ScenarioError(f"must be a whole number >= 1, got {self.replicates!r}", file=where, key="replicates")
        if not 0 < self.shortfall_alpha <= 1:
            raise ScenarioError("must be in (0, 1]", file=where, key="shortfall_alpha")
        for key in ("n_consumers", "days"):
            value = getattr(self, key)
            if value is not None and (not isinstance(value, numbers.Integral) or value < 1):
                raise ScenarioError(f"must be >= 1, got {value}", file=where, key=f"run.{key}")
        for key, name in (("window_start", "window.start"), ("window_end", "window.end")):
            value = getattr(self, key)
            if value is not None:
                try:
                    date.fromisoformat(str(value))
                except ValueError:
                    raise ScenarioError(f"expected a date like 2025-01-01, got {value!r}", file=where, key=name) from None
        if self.window_start and self.window_end and date.fromisoformat(self.window_end) < date.fromisoformat(self.window_start):
            raise ScenarioError(f"end {self.window_end} is before start {self.window_start}", file=where, key="window.end")
        for key, names in (("recovery_series", (self.recovery_series,)), ("window.series", self.window_series)):
            for i, series in enumerate(names):
                if series not in MONTHLY_SERIES:
                    raise ScenarioError(
                        f"unknown monthly series {series!r}{did_you_mean(str(series), MONTHLY_SERIES)}; "
                        f"allowed: {', '.join(MONTHLY_SERIES)}",
                        file=where,
                        key=key if key == "recovery_series" else f"{key}[{i}]",
                    )
        if self.adaptive is not None and self.adaptive.max_replicates < self.replicates:
            raise ScenarioError(
                f"adaptive.max_replicates ({self.adaptive.max_replicates}) is below replicates ({self.replicates})",
                file=where,
                key="adaptive.max_replicates",
            )

    @property
    def baseline_arm(self) -> str:
        """Name of the arm every other arm is compared with (default: the first arm)."""
        return self.baseline if self.baseline is not None else self.arms[0].name

    @property
    def arm_names(self) -> list[str]:
        """Arm names in the order given."""
        return [a.name for a in self.arms]

    def with_size(
        self,
        *,
        replicates: int | None = None,
        n_consumers: int | None = None,
        days: int | None = None,
        warmup_days: int | None = None,
        max_replicates: int | None = None,
    ) -> Experiment:
        """A copy with a different number of replicates, adaptive cap or run size (e.g. a reduced CI version)."""
        changes: dict[str, Any] = {}
        for key, value in (
            ("replicates", replicates),
            ("n_consumers", n_consumers),
            ("days", days),
            ("warmup_days", warmup_days),
        ):
            if value is not None:
                changes[key] = value
        if self.adaptive is not None and (replicates is not None or max_replicates is not None):
            n = replicates if replicates is not None else self.replicates
            cap = max_replicates if max_replicates is not None else self.adaptive.max_replicates
            changes["adaptive"] = replace(self.adaptive, max_replicates=max(cap, n))
        return replace(self, **changes)

    def size_overrides(self) -> dict[str, Any]:
        """Dotted overrides of the run size applied to every arm."""
        out: dict[str, Any] = {}
        for key, value in (("n_consumers", self.n_consumers), ("days", self.days), ("warmup_days", self.warmup_days)):
            if value is not None:
                out[f"run.{key}"] = int(value)
        return out


def load_arm_scenario(arm: Arm, where: str | None = None) -> Scenario:
    """The arm's scenario object before overrides (files layered in order when a tuple)."""
    ref = arm.scenario
    try:
        if isinstance(ref, Scenario):
            return ref
        if isinstance(ref, tuple):
            return compose_files(ref)
        return load_scenario(ref)
    except FileNotFoundError as exc:
        raise ScenarioError(f"scenario file not found: {exc.filename}", file=where, key=f"arms.{arm.name}.scenario") from exc


def resolve_arm(
    arm: Arm,
    size: Mapping[str, Any],
    background: Mapping[str, Any] | None = None,
    base: Scenario | None = None,
    where: str | None = None,
) -> Scenario:
    """The validated scenario one run of `arm` uses: background (ensemble) values, then arm overrides, then size."""
    scenario = base if base is not None else load_arm_scenario(arm, where)
    overrides: dict[str, Any] = {**dict(background or {}), **dict(arm.params), **dict(size)}
    events = {k: overrides.pop(k) for k in EVENT_SECTIONS if k in overrides}
    if events:  # inline shocks / strategies / risk rules are added to the scenario's own
        raw = scenario.to_dict()
        for section, items in events.items():
            if not isinstance(items, (list, tuple)):
                raise ScenarioError("must be a list of event tables", file=where, key=f"arms.{arm.name}.{section}")
            overrides[section] = [*(raw.get(section) or []), *items]
    for key, value in list(overrides.items()):
        if isinstance(value, float):
            current = _current(scenario, key)
            if isinstance(current, int) and not isinstance(current, bool):
                overrides[key] = round(value)
    try:
        return scenario.replace(**overrides) if overrides else scenario
    except ScenarioError as exc:
        raise ScenarioError(f"arm {arm.name!r}: {exc.detail}", file=where or exc.file, key=exc.key) from exc


def check_window(experiment: Experiment, scenario: Scenario, arm: str) -> None:
    """The comparison window must lie inside the recorded horizon of every arm (checked before any run)."""
    first = scenario.run.start_date
    last = first + timedelta(days=scenario.run.days - 1)
    for key, name in (("window_start", "window.start"), ("window_end", "window.end")):
        value = getattr(experiment, key)
        if value is not None and not first <= date.fromisoformat(value) <= last:
            raise ScenarioError(
                f"{value} is outside the recorded horizon {first} .. {last} of arm {arm!r}", file=experiment.source, key=name
            )


def _current(scenario: Scenario, dotted: str) -> Any:
    try:
        return scenario.get(dotted)
    except (AttributeError, TypeError):
        return None


def thresholds_from(items: Sequence[Mapping[str, Any]], where: str | None = None) -> tuple[Threshold, ...]:
    """Thresholds from spec-file tables: {kpi, above|below|at_least|at_most, relative?, label?}."""
    ops = {"above": ">", "below": "<", "at_least": ">=", "at_most": "<="}
    if not isinstance(items, (list, tuple)):
        raise ScenarioError(f"expected [[thresholds]] tables, got {items!r}", file=where, key="thresholds")
    out = []
    for i, item in enumerate(items):
        key = f"thresholds[{i}]"
        if not isinstance(item, Mapping):
            raise ScenarioError(f"expected a [[thresholds]] table, got {item!r}", file=where, key=key)
        if "kpi" not in item:
            raise ScenarioError("needs 'kpi'", file=where, key=key)
        given = [k for k in ops if k in item]
        if len(given) != 1:
            raise ScenarioError(f"give exactly one of {', '.join(ops)}", file=where, key=key)
        unknown = set(item) - {"kpi", "relative", "label", *ops}
        if unknown:
            raise ScenarioError(f"unknown keys {sorted(unknown)}; allowed: kpi, relative, label, {', '.join(ops)}", file=where, key=key)
        out.append(
            Threshold(
                kpi=convert_value(str, item["kpi"], where, f"{key}.kpi"),
                op=ops[given[0]],  # type: ignore[arg-type]
                value=convert_value(float, item[given[0]], where, f"{key}.{given[0]}"),
                relative=convert_value(bool, item.get("relative", False), where, f"{key}.relative"),
                label=convert_value(str, item.get("label", ""), where, f"{key}.label"),
            )
        )
    return tuple(out)
