"""The response report (`simsales responses`): what changes when a shock, strategy or risk plan starts.

Two measured parts, one hook:

- (a) elasticities: a hook only.  `write_report` takes an optional elasticity table made
  elsewhere (the demand work's `simsales.responses.measure_elasticities`) and prints it in its
  own section; without one the section says it was not measured.
- (b) every shipped `experiments/shock_*`, `strategy_*` and `riskplan_*` file against its own
  event-free twin (`simsales.warmstart.event_free`, same horizon and calendar), or for a risk plan
  under a shock against the shock alone: paired differences with 95% intervals on the KPIs the
  expectation file (`calibration/responses_2023.toml`) says the file acts on, and a verdict.
- (c) every `plan_claim` and `plan_target` row of the seed's statistics: the measured effect or
  level of the strategy it belongs to against the figure, with a verdict and its reason.

Nothing here states an effect: every number comes from paired runs of the experiment engine
(`simsales.experiments`, public API only).  Files with the same event-free twin form one
experiment, so they share their baseline runs; each run continues from a shared warm-up
snapshot of the twin where its events allow (`run_experiment`'s warm starts, `simsales.experiments.warm`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from simsales._paths import default_file
from simsales.scenario import Scenario, ScenarioError, load_scenario
from simsales.scenario import bounds as B
from simsales.scenario.loader import read_toml

#: The expectation file shipped with the model.
EXPECTATIONS = "calibration/responses_2023.toml"
#: File-name prefixes of the shipped files the report covers.
PREFIXES = ("shock_", "strategy_", "riskplan_")
SIGNS = ("+", "-")
MEASURES = ("level", "change", "relative_change")
DIRECTIONS = ("at_least", "at_most")

AS_EXPECTED, NOT_SIGNIFICANT, WRONG_SIGN = "as expected", "not significant", "wrong sign"
REACHED, NOT_REACHED, NOT_MODELLED = "reached", "not reached", "not modelled"


# --- the expectation file -------------------------------------------------------------------


@dataclass(frozen=True)
class Expectation:
    """One KPI a file acts on, with the expected sign of its paired difference."""

    file: str
    kpi: str
    sign: str
    reason: str
    seed_id: str = ""


@dataclass(frozen=True)
class Claim:
    """A plan claim or plan target of the seed's statistics, and how the model's response is compared with it."""

    id: str
    value: Any
    unit: str
    file: str
    kpi: str = ""
    measure: str = "level"
    direction: str = "at_least"
    target: float = math.nan
    target_note: str = ""
    not_modelled: str = ""


@dataclass(frozen=True)
class Expectations:
    """The whole expectation file: per-file baselines and KPIs, and the plan claims."""

    baselines: Mapping[str, str]
    kpis: tuple[Expectation, ...]
    claims: tuple[Claim, ...]
    #: file -> its own minimum size in consumers (`consumers` in its table): a small, short shock
    #: touches too few agents at the report's size to be measured
    consumers: Mapping[str, int] = dataclasses.field(default_factory=dict)

    @property
    def files(self) -> list[str]:
        """File names (without .toml) covered, in file order."""
        return list(self.baselines)


def shipped_files(folder: Path | None = None) -> list[str]:
    """Names (without .toml) of every shipped shock, strategy and risk-plan file."""
    root = Path(folder) if folder is not None else default_file("experiments")
    return sorted(p.stem for p in root.glob("*.toml") if p.stem.startswith(PREFIXES))


def load_expectations(path: str | Path | None = None) -> Expectations:
    """Read and check the expectation file; a bad entry raises a `ScenarioError` naming file and key."""
    where = Path(path) if path is not None else default_file(EXPECTATIONS)
    raw = read_toml(where)
    from simsales.kpis import REGISTRY

    def need(cond: bool, msg: str, key: str) -> None:
        if not cond:
            raise ScenarioError(msg, file=str(where), key=key)

    baselines: dict[str, str] = {}
    sizes: dict[str, int] = {}
    kpis: list[Expectation] = []
    files = raw.get("files", {})
    need(isinstance(files, Mapping), "expected [files.NAME] tables", "files")
    for name, table in files.items():
        key = f"files.{name}"
        baseline = table.get("baseline", "event_free")
        need(baseline == "event_free" or baseline in files, f"baseline must be 'event_free' or a file of [files], got {baseline!r}", f"{key}.baseline")
        baselines[name] = baseline
        if "consumers" in table:
            n = table["consumers"]
            need(isinstance(n, int) and not isinstance(n, bool) and 1_000 <= n <= B.MAX_CONSUMERS,
                 f"consumers must be a whole number from 1,000 to {B.MAX_CONSUMERS:,}, got {n!r}", f"{key}.consumers")
            sizes[name] = n
        items = table.get("kpis", [])
        need(isinstance(items, list) and len(items) > 0, "needs at least one KPI", f"{key}.kpis")
        for i, item in enumerate(items):
            k = f"{key}.kpis[{i}]"
            need(item.get("kpi") in REGISTRY, f"unknown KPI {item.get('kpi')!r}", f"{k}.kpi")
            need(item.get("sign") in SIGNS, f"sign must be '+' or '-', got {item.get('sign')!r}", f"{k}.sign")
            need(bool(item.get("reason")), "needs a one-line reason", f"{k}.reason")
            kpis.append(Expectation(name, item["kpi"], item["sign"], item["reason"], item.get("seed_id", "")))
    claims = []
    for i, item in enumerate(raw.get("claims", [])):
        k = f"claims[{i}]"
        for field_name in ("id", "value", "unit", "file"):
            need(field_name in item, f"needs {field_name!r}", k)
        need(item["file"] in baselines, f"file {item['file']!r} has no [files.{item['file']}] table", f"{k}.file")
        if item.get("not_modelled"):
            claims.append(Claim(item["id"], item["value"], item["unit"], item["file"], not_modelled=item["not_modelled"]))
            continue
        need(item.get("kpi") in REGISTRY, f"unknown KPI {item.get('kpi')!r}", f"{k}.kpi")
        need(item.get("measure") in MEASURES, f"measure must be one of {', '.join(MEASURES)}", f"{k}.measure")
        need(item.get("direction") in DIRECTIONS, f"direction must be one of {', '.join(DIRECTIONS)}", f"{k}.direction")
        claims.append(
            Claim(
                item["id"], item["value"], item["unit"], item["file"], item["kpi"], item["measure"], item["direction"],
                claim_target(item), item.get("target_note", ""),
            )
        )  # fmt: skip
    return Expectations(baselines, tuple(kpis), tuple(claims), sizes)


def claim_target(item: Mapping[str, Any]) -> float:
    """The number a claim's measure is compared with: `target` if given, (value / from - 1) for a
    figure 'from X to value', else value x factor."""
    if "target" in item:
        return float(item["target"])
    if "from" in item:
        return float(item["value"]) / float(item["from"]) - 1.0
    return float(item["value"]) * float(item.get("factor", 1.0))


# --- verdicts (pure functions of numbers) ---------------------------------------------------


def sign_verdict(sign: str, ci_low: float, ci_high: float) -> str:
    """'as expected' if the 95% interval excludes 0 on the expected side, 'wrong sign' if it excludes 0
    on the other side, else 'not significant' (also for an interval that could not be computed)."""
    if not (math.isfinite(ci_low) and math.isfinite(ci_high)):
        return NOT_SIGNIFICANT
    if ci_low > 0:
        return AS_EXPECTED if sign == "+" else WRONG_SIGN
    if ci_high < 0:
        return AS_EXPECTED if sign == "-" else WRONG_SIGN
    return NOT_SIGNIFICANT


def target_verdict(direction: str, target: float, ci_low: float, ci_high: float) -> str:
    """'reached' if the whole 95% interval of the measure is on the target's side of it, else 'not reached'."""
    if not (math.isfinite(ci_low) and math.isfinite(ci_high)):
        return NOT_REACHED
    ok = ci_low >= target if direction == "at_least" else ci_high <= target
    return REACHED if ok else NOT_REACHED


# --- scenarios and runs ---------------------------------------------------------------------


def baseline_of(spec: Scenario, kind: str, size: Mapping[str, Any]) -> Scenario:
    """The scenario a file is compared with: its event-free twin, or another shipped file (e.g. the shock
    a risk plan answers) at the same size."""
    from simsales.warmstart import event_free

    if kind == "event_free":
        return event_free(spec)
    return load_scenario(default_file(f"experiments/{kind}.toml"), overrides=dict(size))


@dataclass(frozen=True)
class Group:
    """Files sharing one event-free twin, run as one experiment: arm name -> scenario."""

    key: str
    arms: dict[str, Scenario]
    baseline_of: dict[str, str]  # file -> arm it is compared with


def plan_groups(expect: Expectations, names: Iterable[str], size: Mapping[str, Any]) -> list[Group]:
    """Load every named file with the run size applied, and group files by their event-free twin so
    files with the same horizon share their baseline runs.  Raises `ScenarioError` on a bad file."""
    from simsales.warmstart import event_free

    groups: dict[str, Group] = {}
    for name in names:
        own = file_size(expect, name, size)
        spec = load_scenario(default_file(f"experiments/{name}.toml"), overrides=own)
        base = baseline_of(spec, expect.baselines[name], own)
        twin = event_free(spec)
        if _unnamed(event_free(base)) != _unnamed(twin):
            raise ScenarioError(f"baseline {expect.baselines[name]!r} differs from {name!r} beyond its events (horizon, "
                                "calendar or parameters), so their runs cannot be paired", key=f"files.{name}.baseline")
        key = hashlib.sha256(repr(twin.to_dict()).encode()).hexdigest()[:12]
        group = groups.setdefault(key, Group(key, {}, {}))
        group.arms.setdefault(name, spec)
        base_arm = expect.baselines[name]
        group.arms.setdefault(base_arm, base)  # another file as baseline: one arm, also reported as itself
        group.baseline_of[name] = base_arm
    for group in groups.values():  # the event-free twin first: it is the experiment's baseline arm
        if "event_free" not in group.arms:
            group.arms["event_free"] = event_free(next(iter(group.arms.values())))
        group.arms.update({k: group.arms.pop(k) for k in [k for k in group.arms if k != "event_free"]})
    return list(groups.values())


def file_size(expect: Expectations, name: str, size: Mapping[str, Any]) -> dict[str, Any]:
    """The run size of one file: the report's, with at least the file's own `consumers` when it sets one."""
    own = dict(size)
    if name in expect.consumers:
        own["run.n_consumers"] = max(int(own.get("run.n_consumers") or 0), expect.consumers[name])
    return own


def _unnamed(spec: Scenario) -> str:
    """The scenario's values without its name and description (two files that simulate the same compare equal)."""
    return repr(dataclasses.replace(spec, name="", description="").to_dict())


def measure(
    groups: Sequence[Group],
    kpis: Sequence[str],
    replicates: int,
    jobs: int,
    progress: bool = True,
    store: Path | None = None,
) -> pd.DataFrame:
    """Run every group (paired replicates, common seeds) and return one row per file x KPI with the
    paired difference to its baseline arm: file, kpi, n, baseline_mean, file_mean, diff, ci_low, ci_high,
    rel_diff, rel_ci_low, rel_ci_high.  The arms of a group share their warm-up (`run_experiment`'s
    warm starts; arms acting from day 0 run cold); `store`, when given, keeps every
    finished run (one results directory per group, named by its size-dependent key) so an interrupted
    report resumes."""
    from simsales.experiments import Arm, Experiment, run_experiment

    rows = []
    run_seconds = 0.0
    for group in groups:
        exp = Experiment(
            name=f"responses-{group.key}",
            arms=tuple(Arm(name, scenario=spec) for name, spec in group.arms.items()),
            replicates=replicates,
            baseline="event_free",
            kpis=tuple(kpis),
        )
        out = Path(store) / group.key if store is not None else None
        result = run_experiment(exp, out=out, workers=jobs, progress=progress)
        failed = result.failures()
        if len(failed):
            first = failed.iloc[0]
            raise RuntimeError(f"{len(failed)} runs failed, e.g. {first['arm']} seed {first['seed']}: {first['error']}")
        run_seconds += float(result.runs["seconds"].sum())
        summary = result.summary(kpis)
        for base_arm in dict.fromkeys(group.baseline_of.values()):
            diffs = result.differences(kpis, baseline=base_arm)
            for file, arm_base in group.baseline_of.items():
                if arm_base != base_arm:
                    continue
                for row in diffs[diffs["arm"] == file].itertuples():
                    file_mean = summary[(summary["arm"] == file) & (summary["kpi"] == row.kpi)]
                    rows.append(
                        {
                            "file": file,
                            "baseline": base_arm,
                            "kpi": row.kpi,
                            "n": int(row.n),
                            "baseline_mean": float(row.baseline_mean),
                            "file_mean": float(file_mean["mean"].iloc[0]),
                            "file_ci_low": float(file_mean["ci_low"].iloc[0]),
                            "file_ci_high": float(file_mean["ci_high"].iloc[0]),
                            "diff": float(row.diff),
                            "ci_low": float(row.ci_low),
                            "ci_high": float(row.ci_high),
                            "rel_diff": float(getattr(row, "rel_diff", math.nan)),
                            "rel_ci_low": float(getattr(row, "rel_ci_low", math.nan)),
                            "rel_ci_high": float(getattr(row, "rel_ci_high", math.nan)),
                        }
                    )
    effects = pd.DataFrame(rows)
    effects.attrs["run_seconds"] = run_seconds  # simulation time of every run, also of runs kept from before
    return effects


# --- tables ---------------------------------------------------------------------------------


def response_table(expect: Expectations, effects: pd.DataFrame) -> pd.DataFrame:
    """Part (b): one row per file x KPI it acts on, with the measured difference and the verdict."""
    rows = []
    for e in expect.kpis:
        hit = effects[(effects["file"] == e.file) & (effects["kpi"] == e.kpi)] if len(effects) else effects
        if not len(hit):
            continue
        r = hit.iloc[0]
        rows.append(
            {
                "file": e.file, "kpi": e.kpi, "expected": e.sign, "baseline": r["baseline_mean"], "with file": r["file_mean"],
                "diff": r["diff"], "ci_low": r["ci_low"], "ci_high": r["ci_high"],
                "verdict": sign_verdict(e.sign, r["ci_low"], r["ci_high"]), "reason": e.reason, "seed id": e.seed_id,
            }
        )  # fmt: skip
    return pd.DataFrame(rows)


def claim_table(expect: Expectations, effects: pd.DataFrame, files: Iterable[str] | None = None) -> pd.DataFrame:
    """Part (c): one row per plan claim or target of the reported `files` (default: all): measure,
    interval, target, verdict and why."""
    chosen = set(files) if files is not None else set(expect.files)
    rows = []
    for c in expect.claims:
        if c.file not in chosen:
            continue
        row: dict[str, Any] = {"id": c.id, "figure": f"{c.value} {c.unit}", "file": c.file, "kpi": c.kpi or "-"}
        if c.not_modelled:
            rows.append({**row, "measure": "-", "value": math.nan, "ci_low": math.nan, "ci_high": math.nan,
                         "target": "-", "verdict": NOT_MODELLED, "why": c.not_modelled})  # fmt: skip
            continue
        hit = effects[(effects["file"] == c.file) & (effects["kpi"] == c.kpi)] if len(effects) else effects
        if not len(hit):
            continue
        r = hit.iloc[0]
        if c.measure == "level":
            value, lo, hi = r["file_mean"], r["file_ci_low"], r["file_ci_high"]
        elif c.measure == "change":
            value, lo, hi = r["diff"], r["ci_low"], r["ci_high"]
        else:
            base = abs(r["baseline_mean"])
            value, lo, hi = (r["diff"] / base, r["ci_low"] / base, r["ci_high"] / base) if base else (math.nan,) * 3
        verdict = target_verdict(c.direction, c.target, lo, hi)
        side = ">=" if c.direction == "at_least" else "<="
        shown = f"{c.target:+.1%}" if c.measure == "relative_change" else f"{c.target:.4g}"
        why = (f"{c.measure.replace('_', ' ')} {_num(value, c.measure)} [{_num(lo, c.measure)}, {_num(hi, c.measure)}] "
               f"{'meets' if verdict == REACHED else 'does not meet'} {side} {shown} over the whole 95% interval")
        if c.target_note:
            why += f"; {c.target_note}"
        rows.append({**row, "measure": c.measure.replace("_", " "), "value": value, "ci_low": lo, "ci_high": hi,
                     "target": f"{side} {shown}", "verdict": verdict, "why": why})  # fmt: skip
    return pd.DataFrame(rows)


def _num(x: float, measure: str) -> str:
    if not math.isfinite(x):
        return "n/a"
    return f"{x:+.1%}" if measure == "relative_change" else f"{x:.4g}"


def required_kpis(expect: Expectations, names: Iterable[str]) -> list[str]:
    """Every KPI the report needs for the named files (their expectations and claims)."""
    chosen = set(names)
    kpis = [e.kpi for e in expect.kpis if e.file in chosen]
    kpis += [c.kpi for c in expect.claims if c.file in chosen and c.kpi]
    return list(dict.fromkeys(kpis))


# --- the report -----------------------------------------------------------------------------


def write_report(
    folder: Path,
    responses: pd.DataFrame,
    claims: pd.DataFrame,
    meta: Mapping[str, Any],
    elasticities: pd.DataFrame | None = None,
) -> Path:
    """Write responses.md (and figures/responses_effects.png) into `folder`; returns the report path.

    `elasticities` (optional) is part (a)'s table, made by the elasticity measurement; it is printed
    as given.  `meta` holds the command, size and wall time shown at the top."""
    from simsales.experiments.report import markdown_table

    folder = Path(folder)
    (folder / "figures").mkdir(parents=True, exist_ok=True)
    figure = _effects_figure(responses, folder / "figures" / "responses_effects.png")
    counts = responses["verdict"].value_counts() if len(responses) else pd.Series(dtype=int)
    ccounts = claims["verdict"].value_counts() if len(claims) else pd.Series(dtype=int)
    lines = [
        "# Responses: what changes when a shock, strategy or risk plan starts",
        "",
        f"Made by `{meta.get('command', 'simsales responses')}` in {meta.get('wall_minutes', math.nan):.1f} min "
        f"({meta.get('jobs', 1)} jobs; the runs took {meta.get('run_minutes', math.nan):.1f} min of simulation "
        f"in all, counting runs kept from an earlier start).  Size: {meta.get('consumers', 0):,} consumers, {meta.get('replicates', 0)} paired "
        f"replicates per arm (the same seeds in every arm){_own_sizes(meta)}; each file over its own horizon and calendar; "
        f"expectations and claims from `{meta.get('expectations', EXPECTATIONS)}`.",
        "",
        "Every difference is the paired mean (file minus baseline, same seeds) of the KPI over the file's whole "
        "recorded horizon, with its Student-t 95% interval.  The baseline is the same scenario without its "
        "events (`simsales.warmstart.event_free`), or for a risk plan under a shock the shock alone.",
        "",
        "## (a) Elasticities",
        "",
    ]
    if elasticities is not None and len(elasticities):
        lines += [markdown_table(elasticities), ""]
    else:
        lines += ["Not measured by this command yet: the elasticity measurement is built separately and its "
                  "table is passed to `write_report(..., elasticities=...)`.", ""]  # fmt: skip
    lines += [
        "## (b) Responses of every shock, strategy and risk plan",
        "",
        "Verdict: *as expected* when the 95% interval excludes 0 on the expected side, *wrong sign* when it "
        "excludes 0 on the other side, else *not significant*.",
        "",
        "Counts: " + ", ".join(f"{counts.get(v, 0)} {v}" for v in (AS_EXPECTED, NOT_SIGNIFICANT, WRONG_SIGN)) + ".",
        "",
    ]
    if figure is not None:
        lines += [f"![Paired effects]({figure.relative_to(folder).as_posix()})", ""]
    if len(responses):
        lines += [markdown_table(_rounded(responses)), ""]
    lines += [
        "## (c) Plan claims and plan targets",
        "",
        "Verdict: *reached* when the whole 95% interval of the measure is on the target's side; *not reached* "
        "otherwise; *not modelled* when the model has no output for the figure.  Levels are means over the "
        "file's whole recorded horizon (including the years before the strategy starts), so a level target "
        "meant for the plan's last year is judged conservatively.",
        "",
        "Counts: " + ", ".join(f"{ccounts.get(v, 0)} {v}" for v in (REACHED, NOT_REACHED, NOT_MODELLED)) + ".",
        "",
    ]
    if len(claims):
        lines += [markdown_table(_rounded(claims)), ""]
    path = folder / "responses.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _own_sizes(meta: Mapping[str, Any]) -> str:
    """'; as their tables ask, name and its baseline at N consumers, ...' for the files run larger (`meta['larger']`), else ''."""
    larger = dict(meta.get("larger", {}))
    if not larger:
        return ""
    return "; as their tables ask, " + ", ".join(f"{k} and its baseline at {v:,} consumers" for k, v in larger.items())


def _rounded(table: pd.DataFrame) -> pd.DataFrame:
    out = table.copy()
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col]):
            out[col] = out[col].map(lambda v: "" if not math.isfinite(v) else f"{v:.4g}")
    return out


def _effects_figure(responses: pd.DataFrame, path: Path) -> Path | None:
    """Relative paired effects (difference over the baseline mean) with 95% intervals, coloured by verdict."""
    if not len(responses):
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    base = responses["baseline"].abs().where(responses["baseline"].abs() > 0)
    rel = responses["diff"] / base * 100
    lo = responses["ci_low"] / base * 100
    hi = responses["ci_high"] / base * 100
    colours = {AS_EXPECTED: "tab:green", NOT_SIGNIFICANT: "tab:gray", WRONG_SIGN: "tab:red"}
    labels = [f"{f}: {k}" + ("" if math.isfinite(r) else " (baseline 0, not drawn)")
              for f, k, r in zip(responses["file"], responses["kpi"], rel.fillna(math.nan), strict=True)]  # fmt: skip
    fig, ax = plt.subplots(figsize=(9, max(3, 0.22 * len(labels))))
    y = range(len(labels))
    for i, verdict in enumerate(responses["verdict"]):
        ax.errorbar(rel.iloc[i], i, xerr=[[rel.iloc[i] - lo.iloc[i]], [hi.iloc[i] - rel.iloc[i]]], fmt="o",
                    color=colours.get(verdict, "black"), ms=3)  # fmt: skip
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(list(y), labels, fontsize=6)
    ax.invert_yaxis()
    ax.set_xlabel("paired effect, % of the baseline mean (95% interval); green as expected, grey not significant, red wrong sign")
    ax.xaxis.label.set_size(7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
