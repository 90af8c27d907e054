"""The calibration report (Markdown): fit of every target, reasons for misses, conflicts, identification."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from simsales.calibration.api import Calibration, target_table


def _fmt(value: float) -> str:
    if value is None or not np.isfinite(value):
        return "n/a"
    a = abs(value)
    if a >= 10000:
        return f"{value:,.0f}"
    if a >= 100:
        return f"{value:.1f}"
    if a >= 10:
        return f"{value:.2f}"
    return f"{value:.3g}"


def _pct(value: float) -> str:
    return f"{value:+.1%}" if value is not None and np.isfinite(value) else "n/a"


def candidate_residuals(calib: Calibration) -> pd.DataFrame:
    """Relative errors of every target (fitted and held out) in every search candidate (seed means)."""
    targets = calib.setup.targets
    rows = {}
    for name, frame in calib.result.per_seed_kpis.items():
        means = frame.reindex(columns=targets.kpis).mean(axis=0).to_numpy(dtype=float)
        rows[name] = (means - targets.values) / np.abs(targets.values)
    return pd.DataFrame.from_dict(rows, orient="index", columns=targets.ids)


def _local_reach(calib: Calibration, tid: str) -> str:
    """What the local linear model says about meeting `tid` without losing a met target."""
    from simsales.calibration.conflicts import reachable_keeping_met

    sens, setup = calib.sensitivity, calib.setup
    if sens is None or tid not in sens.jacobian.index:
        return ""
    obj = setup.objective
    best = calib.result.best
    means = obj.mean_kpis(calib.result.per_seed_kpis[best].reindex(columns=obj.targets.kpis).to_numpy(dtype=float))
    z0 = pd.Series(obj.residuals(means), index=obj.targets.ids)
    if not np.isfinite(z0[tid]):
        return ""
    if not sens.jacobian.loc[tid].abs().gt(0).any():
        return "no free parameter moves it measurably at the fit (local sensitivity below seed noise)"
    t, binding = reachable_keeping_met(z0, sens.jacobian, calib.result.x(best), tid)
    if t <= 1.0:
        return ("the local linear model finds values within ±25% of each range meeting it while every met target "
                "stays met: a search-budget or noise limit, not a proven conflict")
    text = (f"cannot be met without losing a met target on the local linear model within ±25% of each range "
            f"(best {t:.1f} tolerances off)")
    if binding:
        text += "; bound by " + ", ".join(binding)
    return text


def miss_reasons(calib: Calibration, table: pd.DataFrame) -> dict[str, str]:
    """A reason for each target that misses its tolerance, from the evidence the calibration gathered."""
    targets = calib.setup.targets
    rel = candidate_residuals(calib)
    documented = calib.conflicts.get("documented", pd.DataFrame())
    found = pd.concat([calib.conflicts.get("never_jointly", pd.DataFrame()), calib.conflicts.get("local", pd.DataFrame())])
    reasons = {}
    for tid, row in table[~table["within"]].iterrows():
        parts = []
        if row["role"] == "holdout":
            parts.append("held out of the fit (prediction)")
        spec = targets.frame.loc[tid]
        if spec.get("miss_reason", ""):
            parts.append(str(spec["miss_reason"]))
        best_rel = float(rel[tid].abs().min()) if tid in rel and rel[tid].notna().any() else np.nan
        tol = row["tolerance"]
        if np.isfinite(best_rel) and best_rel > tol:
            label = "model structure: " if len(rel) >= 30 else ""
            parts.append(
                f"{label}none of the {len(rel)} search candidates (spanning the parameter bounds) came within "
                f"tolerance; closest {best_rel:.0%} off"
            )
        elif not np.isfinite(best_rel):
            parts.append("the KPI is not measurable in this set-up (NaN in every run)")
        for _, c in documented.iterrows():
            if tid in (c["a"], c["b"]):
                other = c["b"] if c["a"] == tid else c["a"]
                if other:
                    state = "met" if other in table.index and table.at[other, "within"] else "also missed"
                    parts.append(f"conflicts with {other} ({state}): {c['reason']}")
                else:
                    parts.append(f"source: {c['reason']}")
        partners = sorted({(r["b"] if r["a"] == tid else r["a"]) for _, r in found.iterrows() if tid in (r["a"], r["b"])})
        if partners:
            parts.append("trades off against " + ", ".join(partners) + " (found empirically, see Conflicts)")
        if row["role"] == "fit":
            local = _local_reach(calib, tid)
            if local:
                parts.append(local)
        lo, hi, v = row["low95"], row["high95"], row["target"]
        band = (v - tol * abs(v), v + tol * abs(v))
        if np.isfinite(lo) and lo <= band[1] and hi >= band[0]:
            parts.append(f"seed noise: the 95% interval [{_fmt(lo)}, {_fmt(hi)}] overlaps the tolerance band")
        if not parts:
            parts.append("traded off against other targets by the weighted fit")
        reasons[tid] = "; ".join(parts)
    return reasons


def _table_md(frame: pd.DataFrame) -> str:
    cols = list(frame.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for _, row in frame.iterrows():
        lines.append("| " + " | ".join(str(v).replace("|", "/") for v in row.to_numpy()) + " |")
    return "\n".join(lines)


def _time_lines(meta: dict[str, Any]) -> list[str]:
    lines = []
    logged = meta.get("invocations", [])
    if logged:
        runs = ", ".join(f"{e['started']}: {e['minutes']:.1f} min, {e['new_runs']} new runs"
                         + (f" ({e['note']})" if e.get("note") else "") for e in logged)
        total = sum(e["minutes"] for e in logged)
        lines.append(f"- Time: {len(logged)} invocation(s) of the command built this checkpoint ({runs}); "
                     f"{total:.1f} min in all with {meta['jobs']} parallel jobs.")
    else:
        lines.append(f"- Time: {meta['wall_minutes']:.1f} min with {meta['jobs']} parallel jobs ({meta['new_runs']} new runs).")
    cpu = meta.get("cpu_minutes", np.nan)
    lines[-1] += (f"  Mean run {meta['mean_run_seconds']:.1f} s of wall time on a machine shared with other jobs"
                  + (f"; {cpu:.0f} CPU-minutes in all, about {cpu / meta['jobs']:.0f} min with {meta['jobs']} jobs on an "
                     "otherwise idle machine." if np.isfinite(cpu) else "."))
    return lines


def _selection_lines(calib: Calibration) -> list[str]:
    sel = calib.selection
    if sel is None or not len(sel):
        return []
    from simsales.calibration.api import selection_seeds

    parts = ", ".join(f"{n} {r['objective_search']:.3f} -> {r['objective_all']:.3f}" for n, r in sel.iterrows())
    return [f"- Selection: the {len(sel)} best candidates re-run on fresh seeds {list(selection_seeds(calib.setup))}; "
            f"objective on search seeds -> on all {2 * len(calib.setup.seeds)} seeds: {parts}.  Fitted: "
            f"**{calib.result.best}**."]


def _polish_lines(calib: Calibration) -> list[str]:
    rec = calib.polish
    if not rec:
        return []
    head = f"- Polish (a step on the local linear model at {rec['from']}, `simsales.calibration.polish`): "
    if rec["candidate"] is None:
        return [head + "the linear model brings no missed target within tolerance without pushing a met one out; nothing to try."]
    verdict = ("kept: it is the fit" if rec["kept"] else
               "not kept (it must meet more targets without raising the objective by more than twice its standard error)")
    brought = ", ".join(f"`{t}`" for t in rec["brought"])
    return [head + f"aimed at {brought}; on seeds {rec['seeds']} it meets {rec['within_after']} targets against "
            f"{rec['within_before']}, objective {rec['objective_after']:.3f} against {rec['objective_before']:.3f} "
            f"(standard error {rec['objective_se']:.3f}); {verdict}."]


def monthly_shape_markdown(calib: Calibration, jobs: int = 1) -> str:
    """The monthly-shape section: the fitted model's 2023 deliveries by month against the 2023 actuals, with the
    root-mean-square error of the monthly index (`simsales.seasonality`), on the report's seeds and size.
    Runs the fit once per report seed; a set-up whose recorded window does not cover 2023 gets a note instead."""
    from simsales import seasonality

    run = calib.setup.scenario.run
    first, last = run.start_date, run.start_date + timedelta(days=run.days - 1)
    if first > date(2023, 1, 1) or last < date(2023, 12, 31):
        return (f"{seasonality.SECTION_HEADING}\n\nNot computed: the recorded window {first} .. {last} does not cover "
                "all of 2023.\n")
    monthly = seasonality.seed_mean_monthly(calib.setup.scenario, params=calib.fitted, n_consumers=calib.report_n,
                                            seeds=calib.report_seeds, jobs=jobs)
    return seasonality.shape_section(
        seasonality.monthly_shape(monthly), calib.report_seeds, calib.report_n,
        "Computed by the calibration with its fitted parameters; `python -m simsales.seasonality --report FILE` "
        "re-makes this section alone for the shipped fit.",
    )


def render(calib: Calibration, meta: dict[str, Any], figures: dict[str, str], monthly_section: str | None = None) -> str:
    """The full report as Markdown; `monthly_section` (default: `monthly_shape_markdown`, which runs the fit on the
    report seeds) is the monthly-shape section."""
    setup, result = calib.setup, calib.result
    table = target_table(calib)
    reasons = miss_reasons(calib, table)
    fit = table[table["role"] == "fit"]
    held = table[table["role"] == "holdout"]
    start = target_table(calib, calib.start_check) if calib.start_check is not None else None
    n_all, k_all = len(table), int(table["within"].sum())
    cand = result.candidates
    out = [
        "# Calibration report: 2023 baseline",
        "",
        f"Written by `{meta.get('command', 'simsales calibrate')}` on {meta['date']} "
        f"(simsales {meta['simsales']}, commit {meta['git_commit'] or 'unknown'}).  Re-run that command to reproduce it; "
        "an interrupted run resumes from its checkpoint.",
        "",
        "## Summary",
        "",
        f"- **{k_all} of {n_all} targets ({k_all / n_all:.0%}) within tolerance** with the fitted parameters, "
        f"simulated mean over {len(calib.report_seeds)} seeds ({', '.join(map(str, calib.report_seeds))}) "
        f"at {calib.report_n:,} consumers{' (the default model size)' if calib.report_n == setup.scenario.run.n_consumers else ''}; "
        "these seeds were not used in the search.",
    ]
    if start is not None:
        out.append(f"- The hand-set starting values (the baseline without `fitted_2023.toml`) meet "
                   f"{int(start['within'].sum())} of {n_all} on the same seeds.")
    if len(held):
        out.append(f"- Held out of the fit: {len(held)} targets; {int(held['within'].sum())} of them predicted within tolerance "
                   f"(mean absolute relative error {held['rel_error'].abs().mean():.1%}).")
    out += [
        f"- Fitted targets: {int(fit['within'].sum())} of {len(fit)} within tolerance.",
        f"- Objective ({setup.loss.name} loss of tolerance-scaled residuals, weighted mean over targets, seed-mean KPIs "
        f"on search seeds {list(setup.seeds)} at {setup.n_consumers:,} consumers): start "
        f"{cand['objective'].iloc[0]:.3f} -> best {cand['objective'].min():.3f} (candidate {result.search_best})"
        + ("." if result.best == result.search_best else
           f"; the fit, chosen below, {cand.at[result.best, 'objective']:.3f} (candidate {result.best})."),
        f"- Search: {len(cand)} candidates ({', '.join(f'{s}: {n}' for s, n in cand['stage'].value_counts(sort=False).items())}), "
        f"{len(cand) * len(setup.seeds)} runs; {meta['runs_total']} runs in all including sensitivity and checks.",
        *_time_lines(meta),
        f"- Simulation code: {meta['code_note']}",
        *_selection_lines(calib),
        *_polish_lines(calib),
        f"- Ensemble: {len(calib.ensemble)} accepted parameter sets (not significantly worse than the best in a one-sided "
        f"paired t-test at 5% over the {len(setup.seeds)} common seeds), written to `ensemble_2023.parquet`; load with "
        "`simsales.calibration.load_ensemble()`.",
        "",
        "## Fitted parameters",
        "",
    ]
    prec = calib.sensitivity.summary if calib.sensitivity is not None else None
    ens = calib.ensemble
    rows = []
    start_values = setup.space.overrides(setup.start)
    for p in setup.space.parameters:
        value = calib.fitted[p.key]
        rows.append({
            "parameter": f"`{p.key}`", "start": _fmt(start_values[p.key]), "fitted": _fmt(value),
            "bounds": f"[{_fmt(p.low)}, {_fmt(p.high)}]{' log' if p.scale == 'log' else ''}",
            "ensemble range": f"{_fmt(ens[p.key].min())} - {_fmt(ens[p.key].max())}",
            "identified": "" if prec is None else f"{prec.at[p.key, 'identified']} (±{prec.at[p.key, 'precision_joint']:.0%} of range)",
        })
    out += [_table_md(pd.DataFrame(rows)), ""]
    out += ["## Targets", "",
            "Simulated: mean over the report seeds; 95%: 2.5-97.5 percentile across seeds; error: relative error of the mean; "
            "tol: relative tolerance.", ""]
    rows = []
    for tid, r in table.iterrows():
        status = ("ok" if r["within"] else "**miss**") + (" (holdout)" if r["role"] == "holdout" else "")
        rows.append({
            "target": f"`{tid}`", "unit": r["unit"], "2023": _fmt(r["target"]), "simulated": _fmt(r["simulated"]),
            "95% interval": f"{_fmt(r['low95'])} - {_fmt(r['high95'])}", "error": _pct(r["rel_error"]),
            "tol": f"±{r['tolerance']:.0%}", "fit": status,
            "start": "" if start is None else _pct(start.at[tid, "rel_error"]),
        })
    out += [_table_md(pd.DataFrame(rows)), ""]
    out += ["## Misses and why", ""]
    if reasons:
        for tid, text in reasons.items():
            out.append(f"- `{tid}` ({_pct(table.at[tid, 'rel_error'])}, tolerance ±{table.at[tid, 'tolerance']:.0%}): {text}.")
    else:
        out.append("Every target is within its tolerance.")
    out += ["", "## Conflicts", "",
            "Targets that cannot be met together.  Nothing is dropped: each stays in the fit with its weight, and the "
            "evidence is listed here.", "", "### Documented in `targets_2023.toml`", ""]
    for _, c in calib.conflicts["documented"].iterrows():
        pair = f"`{c['a']}` vs `{c['b']}`" if c["b"] else f"`{c['a']}`"
        out.append(f"- {pair} ({c['kind']}): {c['reason']}.")
    out += ["", "### Never jointly within tolerance among the evaluated candidates", ""]
    nj = calib.conflicts["never_jointly"]
    if len(nj):
        out.append(f"Each target of the pair is met in some of the {int(nj['candidates'].iloc[0])} search candidates, "
                   "never both in the same one, and chance alone would rarely produce that (p: probability of no "
                   "overlap given how often each is met; r: correlation of the two residuals across candidates - "
                   "r > 0 with residuals of opposite sign at the fit, or r < 0 with the same sign, means fixing one "
                   "worsens the other):")
        out.append("")
        for _, c in nj.iterrows():
            out.append(f"- `{c['a']}` ({c['met_a']} candidates) vs `{c['b']}` ({c['met_b']}): p = {c['p_chance']:.3f}, "
                       f"r = {c['residual_corr']:+.2f}")
    else:
        out.append("None found: every pair met separately was also met together in some candidate.")
    out += ["", "### Local trade-offs at the fit", ""]
    lt = calib.conflicts.get("local")
    if lt is not None and len(lt):
        out.append("On the local linear model (finite differences at the fit), each target alone can be brought within "
                   "tolerance within ±25% of each range around the fit, but not both (smallest achievable larger "
                   "residual, in tolerances):")
        out.append("")
        for _, c in lt.iterrows():
            out.append(f"- `{c['a']}` vs `{c['b']}`: jointly {c['best_joint']:.2f} (alone {c['best_alone_a']:.2f} and "
                       f"{c['best_alone_b']:.2f})")
    else:
        out.append("None found on the local linear model.")
    if prec is not None:
        out += ["", "## Identification", "",
                "Central finite differences at the fit (±10% of each range, common seeds "
                f"{list(setup.seeds[: meta.get('sensitivity_seeds', 2)])}).  Top targets: residual change in tolerances per "
                "full range.  Elasticity: d ln KPI / d ln parameter for the most moved target.  Precision: parameter change "
                "(share of range) that moves the targets by one tolerance in the weighted least-squares sense - marginal "
                "(others fixed) and joint (others re-fitted, Gauss-Newton); joint above 50% of the range means the targets "
                "barely pin the parameter down.", ""]
        rows = []
        for key, r in prec.iterrows():
            rows.append({"parameter": f"`{key}`", "top targets": r["top_targets"], "elasticity": _fmt(r["elasticity_top"]),
                         "marginal": f"{r['precision_marginal']:.1%}", "joint": f"{r['precision_joint']:.1%}",
                         "identified": r["identified"]})
        out += [_table_md(pd.DataFrame(rows)), ""]
    if monthly_section is None:
        monthly_section = monthly_shape_markdown(calib, int(meta.get("jobs", 1)))
    out += ["", monthly_section.rstrip("\n"), "", "## Figures", ""]
    for title, rel in figures.items():
        out.append(f"![{title}]({rel})")
        out.append("")
    out += ["## Set-up", "",
            f"- Scenario: `{meta['scenario']}` read without its fitted values; free parameters `{meta['parameters']}`; "
            f"targets `{meta['targets']}`.",
            f"- Search plan: {setup.plan.describe()}.",
            f"- Checkpoint: `{meta['checkpoint']}`.",
            ""]
    return "\n".join(out)
