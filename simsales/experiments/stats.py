"""Statistics of an experiment's per-run table: means, intervals, paired differences, breaches, shortfall.

Pure functions of DataFrames, so they can be used on any table with the same columns: `runs` is
the wide per-run table (arm, replicate, status and one column per KPI id), `monthly` the per-run
monthly series (arm, replicate, month, series columns).  Only runs with status 'done' count.
Intervals for means and paired differences are Student-t 95% intervals over replicates;
probabilities get Wilson 95% intervals.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats as st

from simsales.experiments.spec import Threshold

LEVEL = 0.95


def t_interval(values: np.ndarray, level: float = LEVEL) -> tuple[float, float, float, float]:
    """Mean, standard deviation and the `level` t-interval of the mean of finite values."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = len(x)
    if n == 0:
        return (math.nan,) * 4
    mean = float(x.mean())
    if n == 1:
        return mean, math.nan, math.nan, math.nan
    sd = float(x.std(ddof=1))
    half = float(st.t.ppf(0.5 + level / 2, n - 1)) * sd / math.sqrt(n)
    return mean, sd, mean - half, mean + half


def wilson(k: int, n: int, level: float = LEVEL) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion k/n."""
    if n == 0:
        return math.nan, math.nan
    z = float(st.norm.ppf(0.5 + level / 2))
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, round(centre - half, 12)), min(1.0, round(centre + half, 12))


def done(runs: pd.DataFrame) -> pd.DataFrame:
    """Finished runs only."""
    return runs[runs["status"] == "done"] if "status" in runs.columns else runs


def summarize(runs: pd.DataFrame, kpis: Sequence[str], arms: Sequence[str] | None = None) -> pd.DataFrame:
    """Per arm and KPI: n, mean, sd, 95% CI of the mean, and the 2.5-97.5% range of single runs."""
    ok = done(runs)
    arms = list(arms) if arms is not None else list(dict.fromkeys(ok["arm"]))
    rows = []
    for arm in arms:
        sub = ok[ok["arm"] == arm]
        for kpi in kpis:
            values = sub[kpi].to_numpy(dtype=float) if kpi in sub.columns else np.array([])
            finite = values[np.isfinite(values)]
            mean, sd, lo, hi = t_interval(finite)
            rows.append(
                {
                    "arm": arm,
                    "kpi": kpi,
                    "n": len(finite),
                    "mean": mean,
                    "sd": sd,
                    "ci_low": lo,
                    "ci_high": hi,
                    "p2.5": float(np.percentile(finite, 2.5)) if len(finite) else math.nan,
                    "p97.5": float(np.percentile(finite, 97.5)) if len(finite) else math.nan,
                }
            )
    return pd.DataFrame(rows)


def paired(runs: pd.DataFrame, kpi: str, arm: str, baseline: str) -> pd.DataFrame:
    """The arm's and the baseline's value of a KPI side by side, one row per replicate both finished."""
    ok = done(runs)
    a = ok[ok["arm"] == arm].set_index("replicate")[kpi]
    b = ok[ok["arm"] == baseline].set_index("replicate")[kpi]
    both = pd.concat({"arm": a, "baseline": b}, axis=1, join="inner").dropna()
    return both.sort_index()


def differences(runs: pd.DataFrame, kpis: Sequence[str], baseline: str, arms: Sequence[str] | None = None) -> pd.DataFrame:
    """Per arm and KPI: mean paired difference to the baseline (same seeds) with its 95% CI, absolute and relative.

    The relative difference is the mean difference over the baseline mean; its interval is the
    absolute interval scaled the same way (the baseline mean's own noise is ignored).
    """
    ok = done(runs)
    arms = list(arms) if arms is not None else list(dict.fromkeys(ok["arm"]))
    rows = []
    for arm in arms:
        if arm == baseline:
            continue
        for kpi in kpis:
            if kpi not in ok.columns:
                continue
            pair = paired(ok, kpi, arm, baseline)
            diff = (pair["arm"] - pair["baseline"]).to_numpy()
            mean, sd, lo, hi = t_interval(diff)
            base = float(pair["baseline"].mean()) if len(pair) else math.nan
            scale = abs(base) if base else math.nan
            rows.append(
                {
                    "arm": arm,
                    "kpi": kpi,
                    "n": len(diff),
                    "baseline_mean": base,
                    "arm_mean": float(pair["arm"].mean()) if len(pair) else math.nan,
                    "diff": mean,
                    "sd": sd,
                    "ci_low": lo,
                    "ci_high": hi,
                    "rel_diff": mean / scale,
                    "rel_ci_low": lo / scale,
                    "rel_ci_high": hi / scale,
                    "significant": bool(np.isfinite(lo) and (lo > 0 or hi < 0)),
                }
            )
    return pd.DataFrame(rows)


def window_differences(
    monthly: pd.DataFrame,
    series: Sequence[str],
    baseline: str,
    start: str | None = None,
    end: str | None = None,
    arms: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Per arm and monthly series: the series' mean over months in [start, end], paired with the baseline
    replicate by replicate, as a mean difference with its 95% CI (absolute and relative)."""
    m = monthly
    if start is not None:
        m = m[m["month"] >= pd.Timestamp(start)]
    if end is not None:
        m = m[m["month"] <= pd.Timestamp(end)]
    present = [s for s in series if s in m.columns]
    per_run = m.groupby(["arm", "replicate"], sort=False)[present].mean().reset_index()
    per_run["status"] = "done"
    out = differences(per_run, present, baseline, arms)
    if not out.empty:
        out = out.rename(columns={"kpi": "series"})
        out.insert(2, "months", int(m["month"].nunique()))
    return out


def breach_probabilities(
    runs: pd.DataFrame, thresholds: Sequence[Threshold], baseline: str, arms: Sequence[str] | None = None
) -> pd.DataFrame:
    """Per arm and threshold: share of replicates in breach, with a Wilson 95% interval."""
    ok = done(runs)
    arms = list(arms) if arms is not None else list(dict.fromkeys(ok["arm"]))
    compare = {">": np.greater, ">=": np.greater_equal, "<": np.less, "<=": np.less_equal}
    rows = []
    for arm in arms:
        for th in thresholds:
            if th.kpi not in ok.columns:
                continue
            if th.relative:
                pair = paired(ok, th.kpi, arm, baseline)
                values = ((pair["arm"] - pair["baseline"]) / pair["baseline"].abs()).to_numpy()
            else:
                values = ok.loc[ok["arm"] == arm, th.kpi].to_numpy(dtype=float)
            values = values[np.isfinite(values)]
            k = int(compare[th.op](values, th.value).sum())
            lo, hi = wilson(k, len(values))
            rows.append(
                {
                    "arm": arm,
                    "threshold": th.describe(),
                    "kpi": th.kpi,
                    "n": len(values),
                    "breaches": k,
                    "probability": k / len(values) if len(values) else math.nan,
                    "ci_low": lo,
                    "ci_high": hi,
                }
            )
    return pd.DataFrame(rows)


def expected_shortfall(runs: pd.DataFrame, kpi: str, alpha: float = 0.1, arms: Sequence[str] | None = None) -> pd.DataFrame:
    """Per arm: value at risk (the alpha-quantile) and expected shortfall (mean of the worst ceil(alpha*n) runs) of a KPI.

    Low values are bad (profit, margin).  With few replicates the tail is a handful of runs:
    `n_tail` says how many.
    """
    ok = done(runs)
    arms = list(arms) if arms is not None else list(dict.fromkeys(ok["arm"]))
    rows = []
    for arm in arms:
        values = np.sort(ok.loc[ok["arm"] == arm, kpi].to_numpy(dtype=float)) if kpi in ok.columns else np.array([])
        values = values[np.isfinite(values)]
        n_tail = max(1, math.ceil(alpha * len(values))) if len(values) else 0
        rows.append(
            {
                "arm": arm,
                "kpi": kpi,
                "alpha": alpha,
                "n": len(values),
                "n_tail": n_tail,
                "mean": float(values.mean()) if len(values) else math.nan,
                "value_at_risk": float(np.quantile(values, alpha)) if len(values) else math.nan,
                "expected_shortfall": float(values[:n_tail].mean()) if n_tail else math.nan,
            }
        )
    return pd.DataFrame(rows)


def months_to_recover(
    monthly: pd.DataFrame,
    series: str,
    baseline: str,
    tolerance: float = 0.10,
    arms: Sequence[str] | None = None,
    smooth: int = 3,
) -> pd.DataFrame:
    """Per arm x replicate: months from the first month the series leaves the baseline's ±tolerance band to
    the month from which it stays inside it (paired with the baseline run of the same replicate).

    Both series are first averaged over `smooth` trailing months (1 = raw), so month-to-month
    noise of a small market is not taken for a shock.  `shock_month` is the first month out of
    the band (NaT if never), `months` the time to recover, NaN with `recovered=False` when it is
    still outside at the end of the horizon (censored).
    """
    arms = list(arms) if arms is not None else list(dict.fromkeys(monthly["arm"]))
    base = monthly[monthly["arm"] == baseline].set_index(["replicate", "month"])[series]
    rows = []
    for arm in arms:
        if arm == baseline:
            continue
        sub = monthly[monthly["arm"] == arm]
        for rep, grp in sub.groupby("replicate", sort=True):
            s = grp.set_index("month")[series].sort_index()
            if rep not in base.index.get_level_values(0):
                continue
            b = base.loc[rep].reindex(s.index).rolling(smooth, min_periods=1).mean()
            s = s.rolling(smooth, min_periods=1).mean()
            diff = (s - b).to_numpy(dtype=float)
            with np.errstate(divide="ignore", invalid="ignore"):
                gap = np.where(diff == 0, 0.0, diff / b.abs().to_numpy(dtype=float))  # equal months are in band, 0/0 too
            outside = ~(np.abs(gap) <= tolerance)
            months = list(s.index)
            if not outside.any():
                rows.append({"arm": arm, "replicate": rep, "shock_month": pd.NaT, "recovered": True, "months": 0.0})
                continue
            first = int(np.argmax(outside))
            last_out = len(outside) - 1 - int(np.argmax(outside[::-1]))
            recovered = last_out < len(outside) - 1
            rows.append(
                {
                    "arm": arm,
                    "replicate": rep,
                    "shock_month": months[first],
                    "recovered": recovered,
                    "months": float(last_out + 1 - first) if recovered else math.nan,
                }
            )
    return pd.DataFrame(rows, columns=["arm", "replicate", "shock_month", "recovered", "months"])


def recovery_summary(recovery: pd.DataFrame) -> pd.DataFrame:
    """Per arm: share of replicates recovered within the horizon and median months to recover."""
    if recovery.empty:
        return pd.DataFrame(columns=["arm", "n", "hit", "recovered_share", "median_months"])
    rows = []
    for arm, grp in recovery.groupby("arm", sort=False):
        hit = grp["shock_month"].notna()
        rows.append(
            {
                "arm": arm,
                "n": len(grp),
                "hit": int(hit.sum()),
                "recovered_share": float(grp.loc[hit, "recovered"].mean()) if hit.any() else math.nan,
                "median_months": float(grp.loc[hit & grp["recovered"], "months"].median()) if hit.any() else 0.0,
            }
        )
    return pd.DataFrame(rows)
