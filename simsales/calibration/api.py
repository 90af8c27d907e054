"""`calibrate()`: search, ensemble, identification, final check and conflicts in one call.

Every simulation goes through one run store (`simsales.runs`), so the whole pipeline - not only
the search - resumes after an interruption, and runs on any executor (local processes or Dask).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simsales.calibration import conflicts as conflict_mod
from simsales.calibration import polish as polish_mod
from simsales.calibration.engine import STUDY, Runner, SearchPlan, SearchResult, Setup, candidate_frame, search
from simsales.calibration.ensemble import ensemble_frame
from simsales.calibration.fitted import load_unfitted_scenario
from simsales.calibration.objective import make_loss
from simsales.calibration.parameters import ParameterSpace, load_parameters
from simsales.calibration.samplers import SAMPLERS
from simsales.calibration.sensitivity import Sensitivity, finite_differences
from simsales.calibration.targets import TargetSet, load_target_set
from simsales.errors import InputError
from simsales.runs import Executor, RunStore, json_hash, make_executor, make_store
from simsales.scenario import Scenario

DEFAULT_SEEDS = (1, 2, 3)
DEFAULT_REPORT_SEEDS = tuple(range(1001, 1011))
#: Candidates of the default search: about 300 runs of the default model with identification and checks.
DEFAULT_BUDGET = 72


@dataclass
class Calibration:
    """Everything a calibration produced (before it is written to files); `selection` re-ran the top candidates."""

    setup: Setup
    result: SearchResult
    ensemble: pd.DataFrame
    sensitivity: Sensitivity | None
    check: pd.DataFrame
    start_check: pd.DataFrame | None
    report_seeds: tuple[int, ...]
    report_n: int
    conflicts: dict[str, pd.DataFrame]
    timings: dict[str, float] = field(default_factory=dict)
    store: RunStore | None = None
    selection: pd.DataFrame | None = None
    polish: dict[str, Any] | None = None  # the polish step (`_polish`): proposal, its scores and whether it was kept

    @property
    def fitted(self) -> dict[str, float]:
        """Fitted parameter values {dotted key: value}."""
        return self.result.overrides(self.result.best)


def build_setup(
    *,
    scenario: Scenario | str | Path | None = None,
    parameters: ParameterSpace | str | Path | None = None,
    targets: TargetSet | str | Path | None = None,
    holdout: tuple[str, ...] = (),
    seeds: tuple[int, ...] = DEFAULT_SEEDS,
    n_consumers: int | None = None,
    budget: int = DEFAULT_BUDGET,
    explore: int | None = None,
    batch: int = 8,
    explorer: str = "sobol",
    refiner: str = "surrogate",
    loss: str = "huber",
    seed: int = 0,
) -> Setup:
    """A validated calibration set-up; scenario files are read without their fitted values."""
    base = scenario if isinstance(scenario, Scenario) else load_unfitted_scenario(scenario)
    space = parameters if isinstance(parameters, ParameterSpace) else load_parameters(parameters)
    space.validate(base)
    target_set = targets if isinstance(targets, TargetSet) else load_target_set(targets)
    if explore is None:
        explore = min(budget - 1, max(space.dim + 2, budget // 4))
    for name in (explorer, refiner):
        if name not in SAMPLERS:
            raise InputError(f"unknown sampler '{name}'; allowed: {', '.join(SAMPLERS)}", key="sampler")
    explorer_obj = SAMPLERS[explorer](seed=seed) if explorer in ("sobol", "lhs") else SAMPLERS[explorer]()
    refiner_obj = SAMPLERS[refiner](seed=seed) if refiner in ("sobol", "lhs") else SAMPLERS[refiner]()
    plan = SearchPlan(budget=budget, explore=explore, batch=batch, explorer=explorer_obj, refiner=refiner_obj)
    return Setup(
        scenario=base, space=space, targets=target_set, seeds=tuple(seeds),
        n_consumers=int(n_consumers or base.run.n_consumers), plan=plan, loss=make_loss(loss),
        holdout=tuple(holdout), seed=seed,
    )


def calibrate(
    setup: Setup,
    checkpoint: str | Path | RunStore | None,
    *,
    jobs: int = 1,
    scheduler: Any = None,
    executor: Executor | None = None,
    report_seeds: tuple[int, ...] = DEFAULT_REPORT_SEEDS,
    report_n: int | None = None,
    sensitivity_seeds: int = 1,
    select: int = 4,
    check_start: bool = True,
    polish: bool = True,
    stop_after: int | None = None,
    progress: bool = False,
) -> Calibration:
    """Run (or resume) a calibration: search, selection, ensemble, final check, sensitivity, conflicts.

    Selection: the `select` best candidates of the search are re-run on as many further seeds
    as the search used, and the lowest objective over all their seeds is the fit - so the
    shipped parameters are not merely the luckiest draw of a noisy search.  Polish (`polish`, needs
    selection and sensitivity): one step on the finite-difference model at the fit towards meeting
    more targets, run on the search and selection seeds and kept only if it meets more of them
    there without a worse objective (`simsales.calibration.polish`).  The report's seeds are used
    for nothing but the final check.

    checkpoint: a folder (a resumable `DirectoryStore`), a `RunStore`, or None (memory).  Runs go to
    `executor`, else to `jobs` local processes, or to Dask when `scheduler` (a `distributed.Client`
    or an address) is given; the results are the same on each.
    """
    store = make_store(checkpoint)
    own = executor is None
    executor = make_executor(jobs, scheduler) if executor is None else executor
    store.open({**STUDY, "setup_hash": json_hash(setup.describe()), "seeds": list(setup.seeds), "n_consumers": setup.n_consumers})
    try:
        return _calibrate(setup, store, executor, report_seeds, report_n, sensitivity_seeds, select, check_start, polish, stop_after,
                          progress)
    finally:
        store.close()
        if own:
            executor.close()


def _calibrate(setup: Setup, store: RunStore, executor: Executor, report_seeds: tuple[int, ...], report_n: int | None,
               sensitivity_seeds: int, select: int, check_start: bool, polish: bool, stop_after: int | None,
               progress: bool) -> Calibration:
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    runner = Runner(setup, store, executor, stop_after)
    result = search(setup, runner, progress=progress)
    timings["search"] = time.perf_counter() - t0
    selection = None
    if select > 1:
        selection = _select(setup, runner, result, select, progress)
        result.chosen = str(selection["objective_all"].idxmin())
    n_report = int(report_n or setup.scenario.run.n_consumers)

    def check_and_sense(with_start: bool) -> tuple[pd.DataFrame, pd.DataFrame | None, Sensitivity | None]:
        """The final check on the report's seeds and the finite differences, both at the current fit."""
        t2 = time.perf_counter()
        checks = [("fit", result.x(result.best), {"stage": "check"})]
        if with_start:
            checks.append(("start", setup.start, {"stage": "check"}))
        with _phase(runner, progress, len(checks) * len(report_seeds), "check runs"):
            checked = runner.evaluate(checks, tuple(report_seeds), n_report)
        timings["check"] = timings.get("check", 0.0) + time.perf_counter() - t2
        sens = None
        t1 = time.perf_counter()
        if sensitivity_seeds > 0:
            kpi_ids = setup.objective.targets.kpis
            noise = checked["fit"].reindex(columns=kpi_ids).std(axis=0, ddof=1).to_numpy() if len(report_seeds) > 2 else None
            if noise is not None and n_report != setup.n_consumers:
                noise = noise * np.sqrt(n_report / setup.n_consumers)  # noise scales like 1/sqrt(model size)
            with _phase(runner, progress, 2 * setup.space.dim * sensitivity_seeds, "sensitivity runs"):
                sens = finite_differences(result, runner, setup.seeds[:sensitivity_seeds], noise)
        timings["sensitivity"] = timings.get("sensitivity", 0.0) + time.perf_counter() - t1
        return checked["fit"], checked.get("start"), sens

    check, start_check, sens = check_and_sense(check_start)
    polished = None
    if polish and sens is not None and selection is not None:
        polished = _polish(setup, runner, result, sens, progress)
        if polished["kept"]:
            name = polished["candidate"]
            selection = pd.concat([selection, pd.DataFrame([polished["selection_row"]], index=pd.Index([name], name="candidate"))])
            result.chosen = name
            check, _, sens = check_and_sense(False)
    ensemble = ensemble_frame(result.candidates, setup.space.keys, best=result.best)
    found = _conflicts(setup, result, sens, result.x(result.best))
    timings["total"] = time.perf_counter() - t0
    timings["new_runs"] = runner.new_runs
    return Calibration(setup, result, ensemble, sens, check, start_check, tuple(report_seeds), n_report, found, timings,
                       store, selection, polished)


def _polish(setup: Setup, runner: Runner, result: SearchResult, sens: Sensitivity, progress: bool) -> dict[str, Any]:
    """Run the local linear model's proposal (`polish.propose`) on the search and selection seeds and
    decide whether it replaces the fit (`polish.accept`); a kept proposal joins the candidates."""
    obj, space = setup.objective, setup.space
    name = result.best
    seeds = (*setup.seeds, *selection_seeds(setup))

    def score(kpis: pd.DataFrame, x: np.ndarray) -> tuple[int, float, float, np.ndarray]:
        m = kpis.reindex(columns=obj.targets.kpis).to_numpy(dtype=float)
        z = obj.residuals(obj.mean_kpis(m)[None, :])[0]
        penalty = space.prior_penalty(x)
        per_seed = obj.per_seed(m) + penalty
        return int((np.abs(z) <= 1.0).sum()), obj(m) + penalty, float(np.std(per_seed, ddof=1) / np.sqrt(len(per_seed))), z

    x0 = result.x(name)
    within0, objective0, se0, z0 = score(runner.kpis(result.overrides(name), seeds, setup.n_consumers), x0)
    record: dict[str, Any] = {"from": name, "kept": False, "within_before": within0, "objective_before": objective0, "seeds": list(seeds)}
    proposal = polish_mod.propose(pd.Series(z0, index=obj.targets.ids), sens.jacobian, x0)
    if proposal is None:
        return {**record, "candidate": None, "brought": []}
    x, brought = proposal
    pname = f"{name}/polish"
    with _phase(runner, progress, len(seeds), "polish runs"):
        kpis = runner.evaluate([(pname, x, {"stage": "polish"})], seeds, setup.n_consumers)[pname]
    within1, objective1, _, _ = score(kpis, x)
    kept = polish_mod.accept(within1, within0, objective1, objective0, se0)
    record.update({"candidate": pname, "brought": brought, "within_after": within1, "objective_after": objective1,
                   "objective_se": se0, "kept": kept, "x": [float(v) for v in x]})
    if kept:
        search_kpis = kpis.loc[list(setup.seeds)]
        row = candidate_frame(setup, [pname], [x], [int(result.candidates["batch"].max()) + 1], ["polish"], {pname: search_kpis})
        result.candidates = pd.concat([result.candidates, row])
        result.per_seed_kpis[pname] = search_kpis
        fresh = kpis.loc[list(selection_seeds(setup))].reindex(columns=obj.targets.kpis).to_numpy(dtype=float)
        record["selection_row"] = {"objective_search": float(row.at[pname, "objective"]),
                                   "objective_fresh": obj(fresh) + space.prior_penalty(x), "objective_all": objective1}
    return record


def selection_seeds(setup: Setup) -> tuple[int, ...]:
    """Seeds for re-evaluating the top candidates: as many as the search used, after them."""
    first = max(setup.seeds) + 1
    return tuple(range(first, first + len(setup.seeds)))


def _select(setup: Setup, runner: Runner, result: SearchResult, k: int, progress: bool) -> pd.DataFrame:
    """Re-run the k best candidates on fresh seeds; objective over search plus fresh seeds per candidate."""
    top = list(result.candidates["objective"].nsmallest(k).index)
    seeds = selection_seeds(setup)
    with _phase(runner, progress, len(top) * len(seeds), "selection runs"):
        fresh = runner.evaluate([(name, result.x(name), {"stage": "selection"}) for name in top], seeds, setup.n_consumers)
    obj = setup.objective
    rows = []
    for name in top:
        both = pd.concat([result.per_seed_kpis[name], fresh[name]])
        m = both.reindex(columns=obj.targets.kpis).to_numpy(dtype=float)
        penalty = setup.space.prior_penalty(result.x(name))
        rows.append({"candidate": name, "objective_search": float(result.candidates.at[name, "objective"]),
                     "objective_fresh": obj(fresh[name].reindex(columns=obj.targets.kpis).to_numpy(dtype=float)) + penalty,
                     "objective_all": obj(m) + penalty})
    return pd.DataFrame(rows).set_index("candidate")


@contextmanager
def _phase(runner: Runner, progress: bool, total: int, desc: str) -> Iterator[None]:
    """A progress bar over the new runs of one phase (runs found in the checkpoint are skipped quickly)."""
    if not progress:
        yield
        return
    from tqdm.auto import tqdm

    with tqdm(total=total, desc=desc, unit="run") as bar:
        runner.progress = bar.update
        try:
            yield
        finally:
            runner.progress = None


def _conflicts(setup: Setup, result: SearchResult, sens: Sensitivity | None, best_x: np.ndarray) -> dict[str, pd.DataFrame]:
    obj = setup.objective
    means = np.array([obj.mean_kpis(result.per_seed_kpis[c].reindex(columns=obj.targets.kpis).to_numpy(dtype=float))
                      for c in result.candidates.index])
    z = pd.DataFrame(obj.residuals(means), index=result.candidates.index, columns=obj.targets.ids)
    found = {
        "documented": conflict_mod.documented(setup.targets),
        "never_jointly": conflict_mod.never_jointly(z),
    }
    if sens is not None:
        found["local"] = conflict_mod.local_tradeoffs(z.loc[result.best], sens.jacobian, best_x)
    return found


def target_table(calib: Calibration, kpis: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every target with its value, simulated mean, 95% seed interval, relative error and pass/miss."""
    kpis = calib.check if kpis is None else kpis
    targets = calib.setup.targets
    rows = []
    for tid, row in targets.frame.iterrows():
        sims = kpis[row["kpi"]].to_numpy(dtype=float) if row["kpi"] in kpis else np.array([np.nan])
        sims = sims[np.isfinite(sims)]
        mean = float(sims.mean()) if len(sims) else np.nan
        lo, hi = (np.percentile(sims, [2.5, 97.5]) if len(sims) else (np.nan, np.nan))
        rel = (mean - row["value"]) / abs(row["value"]) if np.isfinite(mean) else np.nan
        rows.append({
            "id": tid, "unit": row["unit"], "target": float(row["value"]), "simulated": mean,
            "low95": float(lo), "high95": float(hi), "sd": float(sims.std(ddof=1)) if len(sims) > 1 else np.nan,
            "rel_error": rel, "tolerance": float(row["tolerance"]),
            "within": bool(np.isfinite(rel) and abs(rel) <= row["tolerance"]),
            "role": "holdout" if tid in calib.setup.holdout else "fit",
            "weight": float(row["weight"]),
        })
    return pd.DataFrame(rows).set_index("id")
