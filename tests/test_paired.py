"""Paired comparisons: random numbers keyed by consumer, purpose and day (simsales.streams).

A consumer whose journey an event does not touch must draw the same numbers with and without
it, so two arms of one seed differ only through the consumers the event really reaches.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import date

import numpy as np
import pandas as pd
import pytest
from joblib import Parallel, delayed

from simsales import streams as streams_module
from simsales.experiments import Arm, Experiment, run_experiment
from simsales.model import MarketModel
from simsales.run import release_model
from simsales.scenario import Scenario, load_scenario
from simsales.streams import Purpose, Streams

#: Streams(2023).bits(Purpose.CHOICE, [0, 1, 123456], counter=400, n=2) since keyed numbers were introduced
EXPECTED_BITS = np.array(
    [
        [14312197581679281138, 18270873131783348100],
        [1349685685523435715, 17156667228241664779],
        [15822805967422609786, 17147217043382139935],
    ],
    dtype=np.uint64,
)


def _monthly(spec: Scenario, seed: int, n: int) -> pd.DataFrame:
    model = MarketModel(scenario=spec, n_consumers=n, seed=seed)
    model.run_model()
    monthly = model.recorder.monthly()
    release_model(model)
    return monthly


def _year(monthly: pd.DataFrame, year: int) -> pd.DataFrame:
    return monthly[monthly["month"].dt.year == year].reset_index(drop=True)


def test_streams_are_pure_functions_of_their_key() -> None:
    s = Streams(7)
    ids = np.array([5, 1, 9, 5_000_000])
    u = s.uniform(Purpose.VISIT, ids, 400, 3)
    # order and company do not matter: the same key gives the same numbers alone or in a batch
    np.testing.assert_array_equal(s.uniform(Purpose.VISIT, ids[::-1], 400, 3), u[::-1])
    np.testing.assert_array_equal(s.uniform(Purpose.VISIT, ids[2:3], 400, 3), u[2:3])
    # any key component changes the numbers
    for other in (Streams(8).uniform(Purpose.VISIT, ids, 400, 3), s.uniform(Purpose.ORDER, ids, 400, 3), s.uniform(Purpose.VISIT, ids, 401, 3)):
        assert not np.any(other == u)
    np.testing.assert_array_equal(s.uniform(Purpose.VISIT, ids, 400, 3, sub=1)[:, 0] == u[:, 0], False)


@pytest.mark.skipif(streams_module.compiled_kernels() is None, reason="numba is not installed: only the NumPy path exists")
def test_compiled_kernels_draw_the_numpy_numbers() -> None:
    """Large models draw through numba: they must see exactly the numbers small ones see."""
    numpy_streams, compiled = Streams(11), Streams(11, compiled=True)
    ids = np.arange(0, 30_000, 3)
    cases = [(5, 1, 0), (400, 3, 0), (9, 2, 1), (ids % 700, 1, 0), (3, 1, ids % 5), (ids, 2, ids % 3)]
    for counter, n, sub in cases:
        for purpose in (Purpose.AGE_BAND, Purpose.VISIT, Purpose.STOCK_ORDER):
            np.testing.assert_array_equal(compiled.bits(purpose, ids, counter, n, sub), numpy_streams.bits(purpose, ids, counter, n, sub))
            np.testing.assert_array_equal(compiled.uniform(purpose, ids, counter, n, sub), numpy_streams.uniform(purpose, ids, counter, n, sub))
    # any integer dtype and non-contiguous ids give the same numbers
    for view in (ids.astype(np.int32), ids.astype(np.uint32), np.repeat(ids, 2)[::2]):
        np.testing.assert_array_equal(compiled.uniform(Purpose.CHOICE, view, 3), numpy_streams.uniform(Purpose.CHOICE, ids, 3))


def test_a_model_on_compiled_draws_runs_identically(monkeypatch: pytest.MonkeyPatch) -> None:
    """The kernel choice is a speed setting, never a result: a run is the same on either path."""
    short = load_scenario(overrides={"run.warmup_days": 60, "run.days": 120})
    small = _monthly(short, 4, 5_000)
    monkeypatch.setattr("simsales.model.COMPILED_FROM", 0)
    if streams_module.compiled_kernels() is None:
        pytest.skip("numba is not installed: only the NumPy path exists")
    compiled = _monthly(short, 4, 5_000)
    pd.testing.assert_frame_equal(small, compiled)


def test_keyed_numbers_stay_the_published_ones() -> None:
    """A change to the hash would silently change every published result: pin a few numbers."""
    s = Streams(2023)
    got = s.bits(Purpose.CHOICE, np.array([0, 1, 123_456]), 400, 2)
    np.testing.assert_array_equal(got, EXPECTED_BITS)


def test_keyed_uniforms_look_uniform_and_independent() -> None:
    s = Streams(2023)
    ids = np.arange(200_000)
    u = s.uniform(Purpose.CHOICE, ids, 17, 2)
    # 20 equal bins: chi-square with 19 dof; 50.0 is its 0.9999 quantile
    for col in range(2):
        counts = np.bincount((u[:, col] * 20).astype(int), minlength=20)
        expected = len(ids) / 20
        assert ((counts - expected) ** 2 / expected).sum() < 50.0
    # neighbouring consumers, days and columns are uncorrelated (|r| < 5 standard errors)
    bound = 5 / np.sqrt(len(ids))
    assert abs(np.corrcoef(u[:-1, 0], u[1:, 0])[0, 1]) < bound
    assert abs(np.corrcoef(u[:, 0], u[:, 1])[0, 1]) < bound
    assert abs(np.corrcoef(u[:, 0], s.uniform(Purpose.CHOICE, ids, 18))[0, 1]) < bound
    # the distributions built on them have the right first two moments
    e = s.exponential(Purpose.VISIT_DELAY, ids, 3, 5.0)
    assert e.mean() == pytest.approx(5.0, rel=0.02) and e.std() == pytest.approx(5.0, rel=0.03)
    z = s.normal(Purpose.SATISFACTION, ids, 3)
    assert abs(z.mean()) < 0.01 and z.std() == pytest.approx(1.0, rel=0.01)
    g = s.gamma(Purpose.RESEARCH_DAYS, ids, 3, 2.0, 22.5)
    assert g.mean() == pytest.approx(45.0, rel=0.02) and g.var() == pytest.approx(2.0 * 22.5**2, rel=0.04)
    k = s.poisson(Purpose.EXTRA_LEADS, ids, 3, 1.7)
    assert k.mean() == pytest.approx(1.7, rel=0.02) and k.var() == pytest.approx(1.7, rel=0.03)


class _RecordingStreams(Streams):
    """Streams that remember every (purpose, id, counter, sub) key drawn."""

    def __init__(self, root: int) -> None:
        super().__init__(root)
        self.keys: Counter = Counter()

    def uniform(self, purpose, ids, counter, n=1, sub=0):  # type: ignore[override]
        ids = np.asarray(ids)
        counter = np.broadcast_to(np.asarray(counter), ids.shape)
        sub = np.broadcast_to(np.asarray(sub), ids.shape)
        self.keys.update(zip([int(purpose)] * len(ids), ids.tolist(), counter.tolist(), sub.tolist(), strict=False))
        return super().uniform(purpose, ids, counter, n, sub)


def test_no_key_is_drawn_twice_in_a_run() -> None:
    """Reusing a key would correlate two draws that the model treats as independent."""
    model = MarketModel(n_consumers=6_000, days=150, warmup_days=200, seed=5)
    model.streams = _RecordingStreams(model.streams.root)
    model.run_model()
    assert sum(model.streams.keys.values()) > 20_000  # every journey purpose reached many times
    repeated = {k: c for k, c in model.streams.keys.items() if c > 1}
    assert not repeated, f"keys drawn more than once, e.g. {list(repeated.items())[:5]}"


@pytest.mark.slow
def test_a_null_price_shock_leaves_the_run_unchanged_but_at_the_margin() -> None:
    """-0.1% on NEV list prices from 19 February 2024: the months before bit-identical, 2024 barely moved.

    Before keyed random numbers the same change moved 2024 deliveries by -0.9%, +1.8% and +1.1%
    (100,000 consumers, seeds 1-3); with them it moves them by at most a few hundredths of a
    percent, what the consumers at the margin of a 0.1% price change do.  The runs start on
    1 October 2023 after the usual 180 days of settling (the shipped 545-day warm-up also builds
    2022 for growth KPIs, not needed here): total deliveries moved +0.046/+0.023/+0.012% and
    focal ones 0.000/+0.087/+0.091% (seeds 1-3), against bounds of 0.2% and 0.5%; with the
    keyed numbers replaced by one sequential generator seed 1's total deliveries moved 1.2%.
    """
    horizon = {"run.start_date": date(2023, 10, 1), "run.warmup_days": 180, "run.days": 458}  # to 2024-12-31
    war = load_scenario("experiments/shock_price_war_nev.toml", overrides=horizon)
    shock = war.shocks[0]
    null = dataclasses.replace(war, shocks=(dataclasses.replace(shock, params=dataclasses.replace(shock.params, change=-0.001)),))
    none = war.replace(shocks=())
    jobs = [(spec, seed) for seed in (1, 2, 3) for spec in (none, null)]
    out = Parallel(n_jobs=2)(delayed(_monthly)(spec, seed, 100_000) for spec, seed in jobs)
    for k in range(3):
        base, treated = out[2 * k], out[2 * k + 1]
        before = base["month"] < "2024-02-01"  # the shock starts on 19 February
        assert before.sum() == 4
        pd.testing.assert_frame_equal(base[before], treated[before])
        b, t = _year(base, 2024).sum(numeric_only=True), _year(treated, 2024).sum(numeric_only=True)
        assert abs(t["deliveries"] / b["deliveries"] - 1) < 0.002
        assert abs(t["deliveries_focal"] / b["deliveries_focal"] - 1) < 0.005


@pytest.mark.slow
def test_pairing_removes_most_replicate_noise_from_a_strategy_effect() -> None:
    """AI customer service at 50,000 consumers, 10 replicates: the paired difference in 2024 focal
    deliveries varies at most a third as much as an unpaired one (sqrt(var A + var B)).

    The runs start on 1 January 2024, the strategy's first day, after 180 days of settling: the
    simulated 2023 added nothing the comparison uses (both arms are the same model until the
    strategy starts).  Ratio 0.256 on this horizon (0.29-0.31 from a 2023 start, ODD 7.3); with
    the keyed numbers replaced by one sequential generator it was 1.01.
    """
    start = {"run.start_date": date(2024, 1, 1)}
    exp = Experiment(
        "paired_ai",
        arms=(
            Arm("baseline", scenario=load_scenario(overrides=start)),
            Arm("ai", scenario=load_scenario("experiments/strategy_ai_customer_service.toml", overrides=start)),
        ),
        replicates=10,
        n_consumers=50_000,
        days=366,  # 2024: the strategy starts on 1 January 2024
        warmup_days=180,  # journeys and stock settle; the prior-year growth KPIs are not used here
        kpis=("focal.market_share",),
    )
    monthly = run_experiment(exp, workers=2, progress=False).monthly
    focal = monthly[monthly["month"].dt.year == 2024].groupby(["replicate", "arm"])["deliveries_focal"].sum()
    wide = focal.unstack("arm")
    assert len(wide) == 10
    paired = (wide["ai"] - wide["baseline"]).std(ddof=1)
    unpaired = np.sqrt(wide["ai"].var(ddof=1) + wide["baseline"].var(ddof=1))
    print(f"focal deliveries 2024 (agents): paired sd {paired:.4g}, unpaired sd {unpaired:.4g}, mean effect {(wide['ai'] - wide['baseline']).mean():.4g}")
    assert paired <= unpaired / 3, f"paired sd {paired:.4g} vs unpaired {unpaired:.4g}"
