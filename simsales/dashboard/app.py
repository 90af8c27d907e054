"""The Solara page: pick a scenario and a size, run it next to the 2023 baseline, read the results.

Start with `python -m simsales.dashboard` (or `solara run simsales.dashboard.app`).  All numbers
come from `simsales.dashboard.compute`; this module only lays them out.  Elements the browser
test reads carry `data-*` attributes (`data-kpi`, `data-effect`, `data-value`).
"""

from __future__ import annotations

import html
import math
from datetime import timedelta
from pathlib import Path
from typing import Any

import ipywidgets
import pandas as pd
import solara
import solara.lab

from simsales.dashboard import charts
from simsales.dashboard.compute import (
    BASELINE,
    DashboardResult,
    Settings,
    effects,
    funnel,
    kpi_vs_target,
    monthly_bands,
    run_dashboard,
    shipped_scenarios,
    stage_upload,
)
from simsales.experiments.spec import HEADLINE_KPIS
from simsales.scenario import ScenarioError, load_scenario

CSS = """
.ss-cards { display: flex; flex-wrap: wrap; gap: 10px; margin: 6px 0 14px 0; }
.ss-card { flex: 1 1 180px; border: 1px solid #e0e0e0; border-radius: 8px; padding: 10px 12px; background: #fafbfc; }
.ss-card .ss-name { font-size: 12px; color: #555; }
.ss-card .ss-value { font-size: 22px; font-weight: 600; color: #1f3b57; }
.ss-card .ss-unit { font-size: 12px; color: #555; margin-left: 4px; }
.ss-card .ss-sub { font-size: 11px; color: #666; }
.ss-ok { color: #2e7d32; } .ss-miss { color: #c62828; }
table.ss-table { border-collapse: collapse; font-size: 12.5px; width: 100%; }
table.ss-table th { text-align: left; border-bottom: 2px solid #ccc; padding: 4px 8px; background: #f3f5f7; }
table.ss-table td { border-bottom: 1px solid #eee; padding: 3px 8px; }
table.ss-table td.num { text-align: right; font-variant-numeric: tabular-nums; }
.ss-meta { font-size: 13px; color: #444; }
.ss-upload { font-size: 12px; color: #444; white-space: pre-wrap; word-break: break-word; }
.ss-notice { padding: 10px 14px; border-radius: 6px; background: #e8f1fb; color: #1f3b57; font-size: 14px; margin: 6px 0; }
.ss-notice.ss-error { background: #fdecea; color: #8a1c1c; white-space: pre-wrap; }
"""

INTRO = """
<h3>simsales dashboard</h3>
<p>Run a scenario of China's car retail market next to the <b>2023 baseline</b>, with the same random
seeds in both (common random numbers), and read:</p>
<ul>
<li><b>KPIs against 2023</b>: the simulated value (mean of the replicates, 95% interval) next to the
2023 statistic it is calibrated to, with units;</li>
<li>the <b>buying funnel</b>, from market entry to delivery, in real people a year;</li>
<li><b>monthly sales and dealer stock</b> against the baseline, with the range of the replicates;</li>
<li>the <b>effect</b> of the scenario on the headline KPIs: paired differences with 95% intervals.</li>
</ul>
<p>Pick a shipped scenario (or upload your own <code>.toml</code> file, read as if it sat in <code>experiments/</code>),
choose the size on the left and press <b>Run</b>.  Agent counts are scaled to real units
(real households / consumer agents).  Small runs are quick but noisy: use more consumers and
replicates for decisions.</p>
"""  # HTML, not Markdown: solara's Markdown fetches KaTeX from a CDN

# --- state (one copy per browser session) --------------------------------------------------------

KINDS = {
    "baseline": "baseline_",
    "strategy": "strategy_",
    "shock": "shock_",
    "risk plan": "riskplan_",
    "uploaded": None,
}

kind = solara.reactive("baseline")
scenario = solara.reactive(BASELINE)
consumers = solara.reactive(20_000)
replicates = solara.reactive(3)
days = solara.reactive(None)
warmup_days = solara.reactive(None)
root_seed = solara.reactive(2023)
uploads: solara.Reactive[dict[str, str]] = solara.reactive({})
upload_message = solara.reactive("")
runs_done = solara.reactive((0, 0))


@solara.lab.task
def run_task(settings: Settings) -> DashboardResult:
    """Run the dashboard experiment in a thread, reporting progress as runs finish."""

    def report(done: int, total: int) -> None:
        runs_done.set((done, total))
        run_task.progress = 100.0 * done / total if total else 0.0

    return run_dashboard(settings, report)


# --- formatting ----------------------------------------------------------------------------------


def fmt(value: float, unit: str = "") -> str:
    """A number as shown on the page: 3 significant-ish digits, thousands separators, '-' for missing."""
    if value is None or not math.isfinite(value):
        return "–"
    a = abs(value)
    digits = 0 if a >= 100 else 1 if a >= 10 else 2
    text = f"{value:,.{digits}f}"
    return f"{text} {unit}".strip() if unit else text


def _scenario_ref(name: str) -> str:
    return uploads.value.get(name, name)


def _description(name: str) -> str:
    try:
        ref = _scenario_ref(name)
        path = Path(ref) if ref.endswith(".toml") else None
        return load_scenario(path if path is not None else Settings(scenario=name).scenario_path()).description
    except (ScenarioError, OSError) as exc:
        return f"(cannot read: {exc})"


# --- pieces --------------------------------------------------------------------------------------


def notice(text: str, kind: str = "info") -> None:
    """A message box (plain HTML: solara's Alert-based Info/Error break with some ipyvuetify versions)."""
    css = "ss-notice ss-error" if kind == "error" else "ss-notice"
    solara.HTML(unsafe_innerHTML=f'<div class="{css}" data-notice="{kind}">{html.escape(text)}</div>')


def kpi_cards_html(table: pd.DataFrame, focus: str) -> str:
    """Headline KPI cards: the scenario's mean, its unit, and the 2023 target."""
    cards = []
    for row in table.itertuples():
        has_target = math.isfinite(row.target_2023)
        status = "" if row.within is None else "ss-ok" if row.within else "ss-miss"
        target = f"2023: {fmt(row.target_2023, row.unit)}" if has_target else "no 2023 target"
        cards.append(
            f'<div class="ss-card" data-kpi="{html.escape(row.kpi)}" data-value="{row.simulated!r}">'
            f'<div class="ss-name">{html.escape(row.kpi)}</div>'
            f'<div><span class="ss-value">{fmt(row.simulated)}</span><span class="ss-unit">{html.escape(row.unit)}</span></div>'
            f'<div class="ss-sub">95% CI {fmt(row.ci_low)} … {fmt(row.ci_high)} · <span class="{status}">{target}</span></div>'
            "</div>"
        )
    return f'<div class="ss-cards" data-arm="{html.escape(focus)}">{"".join(cards)}</div>'


def kpi_table_html(table: pd.DataFrame, dash: DashboardResult) -> str:
    """Every KPI with a 2023 target: simulated mean and CI, baseline mean, target, gap, within tolerance."""
    head = ["KPI", "unit", f"{dash.focus} (mean)", "95% CI", "2023 target", "gap", "within tolerance"]
    if dash.compared:
        head.insert(4, "baseline (same seeds)")
    rows = []
    for r in table.itertuples():
        cells = [
            f'<td title="{html.escape(r.description)}">{html.escape(r.kpi)}</td>',
            f"<td>{html.escape(r.unit)}</td>",
            f'<td class="num" data-table-kpi="{html.escape(r.kpi)}" data-value="{r.simulated!r}">{fmt(r.simulated)}</td>',
            f'<td class="num">{fmt(r.ci_low)} … {fmt(r.ci_high)}</td>',
            f'<td class="num">{fmt(r.target_2023)}</td>',
            f'<td class="num">{"–" if not math.isfinite(r.gap) else f"{100 * r.gap:+.0f}%"}</td>',
            _within_cell(r.within),
        ]
        if dash.compared:
            cells.insert(4, f'<td class="num">{fmt(r.baseline)}</td>')
        rows.append(f"<tr>{''.join(cells)}</tr>")
    header = "".join(f"<th>{h}</th>" for h in head)
    return f'<table class="ss-table" data-table="kpis"><tr>{header}</tr>{"".join(rows)}</table>'


def _within_cell(within: bool | None) -> str:
    if within is None:
        return "<td>–</td>"
    return f'<td class="{"ss-ok" if within else "ss-miss"}">{"yes" if within else "no"}</td>'


def effects_table_html(table: pd.DataFrame) -> str:
    """Paired differences to the baseline with 95% CIs, in each KPI's unit and relative."""
    head = ["KPI", "unit", "baseline mean", "scenario mean", "difference", "95% CI", "relative", "significant"]
    rows = []
    for r in table.itertuples():
        rows.append(
            "<tr>"
            f"<td>{html.escape(r.kpi)}</td><td>{html.escape(r.unit)}</td>"
            f'<td class="num">{fmt(r.baseline_mean)}</td><td class="num">{fmt(r.arm_mean)}</td>'
            f'<td class="num" data-effect="{html.escape(r.kpi)}" data-value="{r.diff!r}">{fmt(r.diff)}</td>'
            f'<td class="num">{fmt(r.ci_low)} … {fmt(r.ci_high)}</td>'
            f'<td class="num">{"–" if not math.isfinite(r.rel_diff) else f"{100 * r.rel_diff:+.1f}%"}</td>'
            f"<td>{'yes' if r.significant else 'no'}</td></tr>"
        )
    header = "".join(f"<th>{h}</th>" for h in head)
    return f'<table class="ss-table" data-table="effects"><tr>{header}</tr>{"".join(rows)}</table>'


def _meta(dash: DashboardResult) -> str:
    s, scen = dash.settings, dash.scenarios[dash.focus]
    run = scen.run
    end = run.start_date + timedelta(days=run.days - 1)
    seeds = ", ".join(str(x) for x in dash.seeds)
    scale = dash.scales[dash.focus]
    return (
        f"<b>{html.escape(dash.focus)}</b> — {html.escape(scen.description)}<br>"
        f"{run.n_consumers:,} consumer agents (1 agent = {scale:,.0f} real households of {run.real_population:,.0f}), "
        f"{s.replicates} replicate(s), recorded {run.start_date} … {end} after {run.warmup_days} warm-up days.<br>"
        f'Replicate seeds (root {s.root_seed}, same in every arm): <span data-seeds="{seeds}">{seeds}</span>'
        + (
            ""
            if dash.scored
            else "<br><i>The recorded window does not cover all of 2023: KPIs are shown beside the "
            "2023 figures but not scored against them (a partial year is not comparable).</i>"
        )
    )


@solara.component
def Results(dash: DashboardResult) -> None:
    """Everything shown after a run."""
    kpis = solara.use_memo(lambda: kpi_vs_target(dash), [dash])
    bands = solara.use_memo(lambda: monthly_bands(dash), [dash])
    stages = solara.use_memo(lambda: funnel(dash), [dash])
    diffs = solara.use_memo(lambda: effects(dash), [dash])
    headline = solara.use_memo(
        lambda: kpi_vs_target(dash, [k for k in HEADLINE_KPIS if k in dash.result.kpi_ids]), [dash]
    )
    solara.HTML(unsafe_innerHTML=_meta(dash), classes=["ss-meta"])
    solara.HTML(unsafe_innerHTML=kpi_cards_html(headline, dash.focus))
    with solara.Columns([1, 1]):
        with solara.Card("Buying funnel", margin=0):
            solara.FigureMatplotlib(charts.funnel_figure(stages, dash.baseline), format="png", dpi=110)
        with solara.Card("Strategy / shock effects", margin=0):
            if dash.compared:
                solara.FigureMatplotlib(charts.effects_figure(diffs), format="png", dpi=110)
            else:
                notice("Only the baseline was run: pick a strategy, shock or risk plan to see its effect.")
    with solara.Card("Monthly sales and stock against the baseline", margin=0, style={"margin-top": "12px"}):
        solara.FigureMatplotlib(charts.monthly_figure(bands, dash.baseline), format="png", dpi=110)
    if dash.compared:
        with solara.Card(
            "Effects on the headline KPIs (paired differences, 95% CI)", margin=0, style={"margin-top": "12px"}
        ):
            solara.HTML(unsafe_innerHTML=effects_table_html(diffs))
    with solara.Card("KPIs against the 2023 statistics", margin=0, style={"margin-top": "12px"}):
        solara.HTML(unsafe_innerHTML=kpi_table_html(kpis, dash))


@solara.component
def Controls() -> None:
    """Scenario picker, upload, size and the Run button with its progress."""
    prefix = KINDS[kind.value]
    names = list(uploads.value) if prefix is None else [n for n in shipped_scenarios() if n.startswith(prefix)]

    def on_kind(value: str) -> None:
        kind.set(value)
        choices = (
            list(uploads.value)
            if KINDS[value] is None
            else [n for n in shipped_scenarios() if n.startswith(KINDS[value])]
        )
        scenario.set(choices[0] if choices else "")

    def on_upload(files: Any) -> None:
        """ipywidgets.FileUpload value: a tuple of {name, content, ...} (one file)."""
        if not files:
            return
        item = files[0]
        try:
            path = stage_upload(item["name"], bytes(item["content"]))
        except ScenarioError as exc:
            upload_message.set(f"Not loaded: {exc}")
            return
        label = f"upload: {path.stem}"
        uploads.set({**uploads.value, label: str(path)})
        kind.set("uploaded")
        scenario.set(label)
        upload_message.set(f"Loaded {item['name']}")

    def start() -> None:
        settings = Settings(
            scenario=_scenario_ref(scenario.value),
            n_consumers=int(consumers.value or 0),
            replicates=int(replicates.value or 0),
            days=days.value,
            warmup_days=warmup_days.value,
            root_seed=int(root_seed.value or 0),
        )
        runs_done.set((0, 0))
        run_task(settings)

    # every element is always there (conditional text is empty instead of absent): inputs keep their place,
    # so an input's state is never handed to its neighbour when a message appears above it
    solara.Select("Kind", values=list(KINDS), value=kind.value, on_value=on_kind)
    solara.Select("Scenario", values=names, value=scenario)
    solara.Text(_description(scenario.value) if scenario.value else "", style={"font-size": "12px", "color": "#555"})
    ipywidgets.FileUpload.element(
        accept=".toml",
        multiple=False,
        description="Upload a scenario .toml",
        layout=ipywidgets.Layout(width="100%"),
        on_value=on_upload,
    )
    solara.HTML(unsafe_innerHTML=f'<div class="ss-upload" data-upload>{html.escape(upload_message.value)}</div>')
    solara.InputInt("Consumers (agents)", value=consumers)
    solara.InputInt("Replicates", value=replicates)
    solara.InputInt("Recorded days (empty: scenario's own)", value=days, optional=True)
    solara.InputInt("Warm-up days (empty: scenario's own)", value=warmup_days, optional=True)
    solara.InputInt("Root seed", value=root_seed)
    solara.Button("Run", on_click=start, color="primary", disabled=run_task.pending or not scenario.value, block=True)
    if run_task.pending:
        done, total = runs_done.value
        solara.ProgressLinear(run_task.progress if run_task.progress is not None else True)
        solara.Text(f"run {done} of {total} finished" if total else "checking the scenario…", classes=["ss-progress"])


@solara.component
def Page() -> None:
    """The dashboard page."""
    solara.Title("simsales dashboard")
    solara.Style(CSS)
    with solara.AppBar():
        solara.Text("China car retail 2023 — scenario dashboard", style={"font-size": "15px"})
    with solara.Sidebar(), solara.Card("Scenario and size", margin=0):
        Controls()
    with solara.Column(style={"padding": "8px 16px"}):
        if run_task.error:
            exc = run_task.exception
            notice(
                f"{type(exc).__name__}: {exc}" if not isinstance(exc, ScenarioError) else f"Invalid input — {exc}",
                "error",
            )
        if run_task.finished and run_task.value is not None:
            Results(run_task.value)
        elif not run_task.pending:
            solara.HTML(unsafe_innerHTML=INTRO, classes=["ss-intro"])
        else:
            notice("Running… results appear when every run has finished.")
