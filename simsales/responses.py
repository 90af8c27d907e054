"""Price elasticities of the model's demand, measured with paired replicates.

Why: a what-if model is only trusted if its responses to price have sensible sizes.  The
literature gives aggregate car demand about -0.8 to -1.5 (Berry, Levinsohn & Pakes 1995;
Bordley 1993), model-level own-price elasticities about -3 to -6.5 (BLP 1995; Goldberg 1995)
and about -3 at brand level in China (Deng & Ma 2010; Li 2018).

How: every arm runs the same scenario with the same seeds (keyed random numbers, so a
consumer a price does not touch draws the same numbers in both arms) and differs only in list
prices, changed for the whole run (warm-up included), so the figure is the steady-state
response of the recorded year.  The elasticity is the log-arc elasticity of deliveries,
ln(Q1 / Q0) / ln(P1 / P0), averaged over replicate pairs, with its standard error over pairs.

Arms: all products -10% (market elasticity: total deliveries), all NEVs -10% and all ICE
cars -10% (segment elasticities: the segment's own deliveries, plus the other segment's as a
cross elasticity), and each product -5% alone (its own-price elasticity).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from simsales.run import run
from simsales.runs import RunTask, make_executor, replicate_seeds
from simsales.scenario import Scenario, load_scenario

#: Published ranges of own-price elasticities (see the module docstring) by kind of measurement.
LITERATURE: dict[str, tuple[float, float]] = {"market": (-1.5, -0.8), "product": (-6.5, -2.0)}

MARKET_CUT = -0.10
SEGMENT_CUT = -0.10
PRODUCT_CUT = -0.05


def _price_params(scenario: Scenario, change: float, products: Sequence[str]) -> dict[str, float]:
    by_id = {p.id: p for p in scenario.products}
    return {f"products.{pid}.price": by_id[pid].price * (1.0 + change) for pid in products}


def _deliveries(task: RunTask) -> tuple[str, pd.Series]:
    """(task id, deliveries per product over the recorded window in simulated units) of one run."""
    result = run(task.scenario, seed=task.seed)
    return task.run_id, result.products.groupby("product", sort=False)["deliveries"].sum()


def arms(scenario: Scenario) -> list[tuple[str, str, float, list[str]]]:
    """(arm, kind, price change, products cut) for every arm of the measurement."""
    ids = [p.id for p in scenario.products]
    nev = [p.id for p in scenario.products if p.powertrain != "ICE"]
    ice = [p.id for p in scenario.products if p.powertrain == "ICE"]
    out = [("all", "market", MARKET_CUT, ids), ("NEV", "segment", SEGMENT_CUT, nev), ("ICE", "segment", SEGMENT_CUT, ice)]
    out += [(pid, "product", PRODUCT_CUT, [pid]) for pid in ids]
    return out


def measure_elasticities(
    scenario: Scenario | str | Path | None = None,
    *,
    n_consumers: int = 50_000,
    replicates: int = 2,
    root_seed: int = 2023,
    jobs: int = 1,
) -> pd.DataFrame:
    """Elasticities of deliveries to list price, one row per (arm, response).

    Columns: arm (what was cut: 'all', 'NEV', 'ICE' or a product id), kind (market, segment,
    cross or product), response (whose deliveries: 'all', 'NEV', 'ICE' or the product),
    price_change (share), elasticity (mean log-arc elasticity over replicate pairs), se
    (standard error over pairs; NaN with one replicate), replicates.  `jobs` runs the simulations
    in parallel (`simsales.runs.make_executor`); the figures do not depend on it.
    """
    spec = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    is_nev = pd.Series({p.id: p.powertrain != "ICE" for p in spec.products})
    seeds = replicate_seeds(root_seed, replicates)
    sized = spec.replace(**{"run.n_consumers": n_consumers})
    variants = {"base": {}} | {arm: _price_params(spec, change, products) for arm, _, change, products in arms(spec)}
    tasks = [RunTask.make(f"{name}/{i}", sized.replace(**params) if params else sized, seed)
             for name, params in variants.items() for i, seed in enumerate(seeds)]  # fmt: skip
    executor = make_executor(jobs)
    try:
        done = dict(executor.map_unordered(_deliveries, tasks))  # type: ignore[arg-type]  # any picklable function of a task
    finally:
        executor.close()
    base = [done[f"base/{i}"] for i in range(len(seeds))]
    rows = []
    for arm, kind, change, _ in arms(spec):
        shocked = [done[f"{arm}/{i}"] for i in range(len(seeds))]
        responses = {"all": ("market", None)} if kind == "market" else {}
        if kind == "segment":
            responses = {"NEV": ("segment" if arm == "NEV" else "cross", True), "ICE": ("segment" if arm == "ICE" else "cross", False)}
        if kind == "product":
            responses = {arm: ("product", arm)}
        for response, (rkind, which) in responses.items():
            values = []
            for q0, q1 in zip(base, shocked, strict=False):
                if which is None:
                    a, b = q0.sum(), q1.sum()
                elif isinstance(which, bool):
                    a, b = q0[is_nev == which].sum(), q1[is_nev == which].sum()
                else:
                    a, b = q0[which], q1[which]
                values.append(math.log(b / a) / math.log(1.0 + change) if a > 0 and b > 0 else float("nan"))
            v = np.asarray(values)
            se = float(v.std(ddof=1) / math.sqrt(len(v))) if len(v) > 1 else float("nan")
            rows.append({"arm": arm, "kind": rkind, "response": response, "price_change": change,
                         "elasticity": float(np.nanmean(v)), "se": se, "replicates": len(v)})
    return pd.DataFrame(rows)


def against_literature(table: pd.DataFrame) -> pd.DataFrame:
    """`measure_elasticities`' table with the published range of each row's kind and whether it is inside.

    Rows without a published range (segments, cross elasticities) get an empty range and no verdict.
    """
    out = table.copy()
    low = out["kind"].map(lambda k: LITERATURE.get(k, (np.nan, np.nan))[0])
    high = out["kind"].map(lambda k: LITERATURE.get(k, (np.nan, np.nan))[1])
    out["literature"] = [f"{lo:g} .. {hi:g}" if np.isfinite(lo) else "" for lo, hi in zip(low, high, strict=True)]
    within = (out["elasticity"] >= low) & (out["elasticity"] <= high)
    out["within"] = np.where(np.isfinite(low), np.where(within, "yes", "no"), "")
    return out
