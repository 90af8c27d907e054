"""A Markdown report of an experiment: question, arms, headline differences, plots, and how to reproduce it."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib.pyplot as plt
import pandas as pd

from simsales.experiments import plots

if TYPE_CHECKING:
    from simsales.experiments.results import ExperimentResult

FAN_SERIES = ("deliveries", "focal_gross_margin", "stock_coefficient", "nev_share")
#: A relative change is shown only while it stays within this factor of the baseline: beyond it
#: the baseline is near zero and a percentage says nothing (e.g. a profit moving around 0).
MAX_RELATIVE = 10.0


def relative_change(base: float, value: float) -> float:
    """(value - base) / |base|, or NaN when it says nothing: a zero or sign-changing base, or beyond MAX_RELATIVE."""
    if not (math.isfinite(base) and math.isfinite(value)) or base == 0 or (base > 0) != (value > 0):
        return math.nan
    rel = (value - base) / abs(base)
    return rel if abs(rel) <= MAX_RELATIVE else math.nan


def with_units(diffs: pd.DataFrame) -> pd.DataFrame:
    """Paired differences with each KPI's unit, and `rel_diff` blank where `relative_change` says it means nothing."""
    from simsales.kpis import REGISTRY

    out = diffs.copy()
    out.insert(out.columns.get_loc("kpi") + 1, "unit", [REGISTRY[k].unit if k in REGISTRY else "" for k in out["kpi"]])
    meaningful = [math.isfinite(relative_change(b, a)) for b, a in zip(out["baseline_mean"], out["arm_mean"], strict=True)]
    for col in ("rel_diff", "rel_ci_low", "rel_ci_high"):
        if col in out.columns:
            out[col] = out[col].where(meaningful)
    return out


def markdown_table(frame: pd.DataFrame, floatfmt: str = ".4g") -> str:
    """A GitHub-flavoured Markdown table (no extra dependency)."""

    def cell(value: Any) -> str:
        if isinstance(value, float):
            return "" if math.isnan(value) else format(value, floatfmt)
        return str(value).replace("|", "\\|").replace("\n", " ")

    head = "| " + " | ".join(str(c) for c in frame.columns) + " |"
    rule = "| " + " | ".join("---" for _ in frame.columns) + " |"
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([head, rule, *body])


def _interval(mean: float, lo: float, hi: float, sign: str = "+") -> str:
    if not math.isfinite(mean):
        return ""
    if not math.isfinite(lo):
        return f"{mean:{sign}.4g}"
    return f"{mean:{sign}.4g} [{lo:{sign}.4g}, {hi:{sign}.4g}]"


def _files(ref: Any) -> str:
    """Scenario file name(s) of an arm."""
    if not ref:
        return ""
    refs = ref if isinstance(ref, (list, tuple)) else [ref]
    return " + ".join(Path(str(r)).name for r in refs)


def _changes(params: dict[str, Any]) -> str:
    """Overrides and inline events of an arm, briefly."""
    parts = []
    for key, value in (params or {}).items():
        if isinstance(value, (list, tuple)) and value and isinstance(value[0], dict):
            events = ", ".join(f"{e.get('name') or e.get('kind')} ({e.get('kind')} from {e.get('start')})" for e in value)
            parts.append(f"{key}: {events}")
        else:
            parts.append(f"{key} = {value}")
    return "; ".join(parts)


def _save(fig: plt.Figure, folder: Path, name: str) -> str:
    fig.savefig(folder / name, dpi=100)
    plt.close(fig)
    return name


#: An arm's events are flagged when they are fully in force for less than this share of the recorded window.
MIN_EVENT_SHARE = 0.25


def late_event_warnings(exp: Any) -> list[str]:
    """One line per arm whose shocks and strategies are fully in force (start + ramp) for less than
    MIN_EVENT_SHARE of the recorded window: its KPIs cover mostly days before the event, so its
    effect reads near zero (e.g. a --smoke run that ends shortly after a shock starts)."""
    from datetime import timedelta

    from simsales.experiments.spec import load_arm_scenario, resolve_arm
    from simsales.scenario import ScenarioError

    lines = []
    for arm in exp.arms:
        try:
            scenario = resolve_arm(arm, exp.size_overrides(), base=load_arm_scenario(arm, exp.source), where=exp.source)
        except ScenarioError:
            continue  # reported when the experiment is planned
        events = [*scenario.shocks, *scenario.strategies]
        if not events or arm.name == exp.baseline_arm:
            continue
        first, days = scenario.run.start_date, scenario.run.days
        last = first + timedelta(days=days - 1)
        full = min(max(e.start, first) + timedelta(days=e.ramp_days) for e in events)
        in_force = max((last - full).days + 1, 0)
        if in_force < MIN_EVENT_SHARE * days:
            lines.append(
                f"warning: arm {arm.name}: its events are fully in force from {full} on only {in_force} of the {days} "
                f"recorded days (to {last}); its KPIs cover mostly the time before them, so effects read near zero."
            )
    return lines


def shocked_arms(exp: Any) -> list[str]:
    """Arms whose scenario or inline events include a shock: the only ones months-to-recover means something for."""
    from simsales.experiments.spec import load_arm_scenario
    from simsales.scenario import ScenarioError

    names = []
    for arm in exp.arms:
        try:
            shocked = bool(arm.params.get("shocks")) or bool(load_arm_scenario(arm, exp.source).shocks)
        except ScenarioError:
            shocked = True  # cannot tell: keep the arm rather than hide it
        if shocked:
            names.append(arm.name)
    return names


def write_report(result: ExperimentResult, folder: str | Path) -> Path:
    """Write report.md and its PNG figures into `folder`; returns the report's path."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    exp = result.experiment
    meta = result.meta
    lines = [f"# Experiment: {exp.name}", ""]
    lines += [f"> {w}\n" for w in late_event_warnings(exp)]
    if exp.question:
        lines += [f"**Question.** {exp.question}", ""]
    ok = int((result.runs["status"] == "done").sum())
    failed = int((result.runs["status"] == "failed").sum())
    n_rep = int(result.runs["replicate"].max()) + 1 if len(result.runs) else 0
    size = ", ".join(f"{k.split('.')[-1]} = {v}" for k, v in exp.size_overrides().items()) or "each scenario's own size"
    lines += [
        "## Design",
        "",
        f"{len(exp.arms)} arms x {n_rep} replicates = {len(result.runs)} runs ({ok} finished, {failed} failed); "
        f"run size: {size}. Every arm uses the same replicate seeds (common random numbers), so arms are compared "
        f"replicate by replicate against the baseline arm **{result.baseline}**.",
        "",
    ]
    if exp.ensemble is not None:
        lines += [f"Each replicate draws its parameters from a calibration ensemble of {len(exp.ensemble)} members (the same draw in every arm).", ""]
    if exp.sensitivity is None and len(exp.arms) <= 40:
        arms = pd.DataFrame(
            [{"arm": a["name"], "scenario": _files(a["scenario"]), "changes": _changes(a["params"])} for a in meta.get("arms", [])]
        )
        lines += [markdown_table(arms), ""]
    elif exp.sensitivity is not None:
        d = exp.sensitivity
        ranges = pd.DataFrame([{"parameter": k, "low": lo, "high": hi} for k, (lo, hi) in d.parameters.items()])
        lines += [f"{d.method.title()} design over {len(d.parameters)} parameters, N = {d.n} ({d.n_points} points).", "", markdown_table(ranges), ""]

    figures: list[tuple[str, str]] = []
    if exp.sensitivity is None and len(exp.arms) > 1:
        diffs = result.differences()
        if not diffs.empty:
            diffs = with_units(diffs)
            table = diffs.assign(
                difference=[_interval(m, lo, hi) for m, lo, hi in zip(diffs["diff"], diffs["ci_low"], diffs["ci_high"], strict=True)],
                relative=[
                    _interval(100 * m, 100 * lo, 100 * hi) + " %" if math.isfinite(m) else ""
                    for m, lo, hi in zip(diffs["rel_diff"], diffs["rel_ci_low"], diffs["rel_ci_high"], strict=True)
                ],
            )[["arm", "kpi", "unit", "n", "baseline_mean", "difference", "relative"]]
            lines += [
                "## Headline differences to the baseline (mean [95% CI])",
                "",
                f"Relative changes are left blank where the baseline is zero, changes sign or is under 1/{MAX_RELATIVE:.0f} of the change.",
                "",
                markdown_table(table),
                "",
            ]
            figures.append(("Effects with 95% intervals", _save(plots.forest_plot(diffs, exp.kpis, result.baseline), out, "forest.png")))
    if exp.window_start or exp.window_end:
        window = result.window_differences()
        if not window.empty:
            span = f"{exp.window_start or 'start'} to {exp.window_end or 'end'}"
            table = window.assign(
                difference=[_interval(m, lo, hi) for m, lo, hi in zip(window["diff"], window["ci_low"], window["ci_high"], strict=True)],
                relative=[
                    _interval(100 * m, 100 * lo, 100 * hi) + " %" if math.isfinite(m) else ""
                    for m, lo, hi in zip(window["rel_diff"], window["rel_ci_low"], window["rel_ci_high"], strict=True)
                ],
            )[["arm", "series", "months", "n", "baseline_mean", "difference", "relative"]]
            lines += [
                f"## Monthly series over {span} (mean per month, paired difference [95% CI])",
                "",
                "KPIs above cover the whole horizon; this window shows the effect once the arms' changes are in force "
                "(flows in real units, as in the run outputs: docs/outputs.md).",
                "",
                markdown_table(table),
                "",
            ]
    summary = result.summary()
    if not summary.empty and exp.sensitivity is None:
        wide = summary.assign(value=[_interval(m, lo, hi, "") for m, lo, hi in zip(summary["mean"], summary["ci_low"], summary["ci_high"], strict=True)])
        lines += ["## KPI means (95% CI of the mean)", "", markdown_table(wide.pivot(index="arm", columns="kpi", values="value").reset_index()), ""]
    if exp.thresholds:
        breaches = result.breach_probabilities()
        lines += ["## Breach probabilities", "", markdown_table(breaches.drop(columns=["kpi"])), ""]
        factors = result.factor_names
        if len(factors) >= 2:
            for i, th in enumerate(breaches["threshold"].unique()):
                fig = plots.breach_heatmap(breaches, th, factors[:-1], factors[-1])
                figures.append((f"Breach heat map: {th}", _save(fig, out, f"breach_{i}.png")))
    if exp.sensitivity is None and exp.shortfall_kpi in result.runs.columns:
        es = result.expected_shortfall()
        lines += [
            f"## Expected shortfall of {exp.shortfall_kpi} (worst {exp.shortfall_alpha:.0%} of replicates)",
            "",
            markdown_table(es.drop(columns=["kpi", "alpha"])),
            "",
        ]
    if exp.sensitivity is None and len(exp.arms) > 1 and exp.recovery_series in result.monthly.columns:
        from simsales.experiments.stats import recovery_summary

        shocked = shocked_arms(exp)
        rec = recovery_summary(result.months_to_recover())
        rec = rec[rec["arm"].isin(shocked)] if not rec.empty else rec
        if not rec.empty:
            left_out = [a for a in exp.arm_names if a not in shocked and a != result.baseline]
            lines += [
                f"## Months to recover ({exp.recovery_series}, 3-month mean, back within ±10% of the baseline run)",
                "",
                "`hit`: replicates that left the band; `recovered_share`: of those, back inside by the end."
                + (f" Arms without a shock (nothing to recover from) are left out: {', '.join(left_out)}." if left_out else ""),
                "",
                markdown_table(rec),
                "",
            ]
    if exp.sensitivity is not None:
        indices = result.sensitivity_indices()
        if not indices.empty:
            ranking = exp.sensitivity.ranking(indices)
            lines += ["## Sensitivity indices", "", markdown_table(indices), "", "### Parameter ranking", "", markdown_table(ranking), ""]
            for i, kpi in enumerate(indices["kpi"].unique()):
                figures.append((f"Tornado: {kpi}", _save(plots.tornado_chart(indices, kpi), out, f"tornado_{i}.png")))
    if not result.monthly.empty and exp.sensitivity is None:
        for series in FAN_SERIES:
            if series in result.monthly.columns:
                figures.append((f"Fan chart: {series}", _save(plots.fan_chart(result.monthly, series, exp.arm_names[:8]), out, f"fan_{series}.png")))
    if figures:
        lines += ["## Figures", ""]
        for title, name in figures:
            lines += [f"### {title}", "", f"![{title}]({name})", ""]
    fails = result.failures()
    if len(fails):
        lines += ["## Failed runs", "", markdown_table(fails.assign(error=fails["error"].str.split("\n").str[0])), ""]
    versions = meta.get("versions", {})
    seeds = meta.get("seeds", result.seeds)
    lines += [
        "## Reproduce",
        "",
        f"- root seed **{exp.root_seed}**; replicate seeds = `numpy.random.SeedSequence({exp.root_seed}).spawn({len(seeds)})`: "
        + ", ".join(str(s) for s in seeds[:10])
        + (" ..." if len(seeds) > 10 else ""),
        f"- spec hash `{meta.get('spec_hash', '')}`; spec file `{exp.source or '(Python API)'}`",
        "- versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()),
        "- scenario hash per arm: " + ", ".join(f"{a['name']} `{a['scenario_hash']}`" for a in meta.get("arms", [])[:20]),
        "",
        f"Re-run: `simsales experiment {exp.source or 'SPEC.toml'} --out {out}` (finished runs are kept and skipped).",
        "",
    ]
    path = out / "report.md"
    path.write_text("\n".join(lines))
    return path
