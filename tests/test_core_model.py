"""Model level: invariants on every day of a year, reproducibility, Mesa batch_run, run() results."""

from __future__ import annotations

import inspect
from datetime import date
from pathlib import Path

import mesa
import numpy as np
import pandas as pd
import pytest

from simsales import MarketModel, RunResult, run
from simsales.agents.consumers import State


class StockLedger:
    """Spies on the network's ordering and receiving to check that units are conserved."""

    def __init__(self, model: MarketModel) -> None:
        net = model.network
        self.initial_stock = int(net.stock.sum())
        self.ordered = 0
        self.received = 0
        order, receive = net.order, net.receive

        def spy_order(*args, **kwargs):
            units = order(*args, **kwargs)
            self.ordered += int(units.sum())
            return units

        def spy_receive(*args, **kwargs):
            units = receive(*args, **kwargs)
            self.received += int(units.sum())
            return units

        net.order, net.receive = spy_order, spy_receive


def check_invariants(model: MarketModel, ledger: StockLedger) -> None:
    """Everything that must hold at the end of every simulated day."""
    pop, net, rec = model.population, model.network, model.recorder
    today = model.day - 1  # step() has advanced the counter
    flows = {k: v[: today + 1].sum() for k, v in rec.flows.items()}
    # every consumer is in exactly one valid state, and the counts add up
    assert pop.state.min() >= 0 and pop.state.max() < len(State)
    counts = pop.counts()
    assert counts.sum() == pop.n
    # nobody is left behind: every next event is today or later
    assert pop.next_day.min() >= model.day, f"day {today}: consumers with an event in the past"
    # consumers in a store's journey belong to a store; orders are for cars the store sells
    engaged = (pop.state >= State.LEAD) & (pop.state <= State.ORDERED)
    assert np.all((pop.dealer[engaged] >= 0) & (pop.dealer[engaged] < net.n))
    ordered = np.flatnonzero(pop.state == State.ORDERED)
    assert np.all(net.sells[pop.dealer[ordered], pop.product[ordered]])
    assert np.all(pop.owns_sim_car[pop.state == State.OWNER])
    # stock is never negative and units are conserved: stock = initial + arrivals - sold
    assert net.stock.min() >= 0 and net.pipeline.min() >= 0
    sold = flows["stock_out_ICE"] + flows["stock_out_NEV"]
    assert sold <= ledger.initial_stock + flows["arrivals"]
    assert net.stock.sum() == ledger.initial_stock + flows["arrivals"] - sold
    assert net.pipeline.sum() == ledger.ordered - ledger.received
    assert ledger.received <= flows["arrivals"]
    assert rec.levels["stock_ICE"][today] + rec.levels["stock_NEV"][today] == net.stock.sum()
    # orders turn into deliveries or are still waiting
    assert flows["deliveries"] <= flows["orders"]
    assert flows["orders"] - flows["deliveries"] == counts[State.ORDERED]
    assert flows["first_services"] <= flows["deliveries"]
    assert flows["test_drives"] <= flows["visits"]
    assert rec.levels["in_market"][today] == counts[State.RESEARCH : State.ORDERED + 1].sum()
    # salespeople: an agent per filled slot; headcount is the staff those slots stand for
    sf = model.salesforce
    assert len(model.salespeople) == sf.filled.sum() <= sf.n_slots
    assert sf.headcount() == pytest.approx(sf.weight[sf.filled].sum()) and sf.headcount() <= sf.positions()


def test_invariants_hold_every_day_of_a_year(make_model) -> None:
    model = make_model(n_consumers=10_000, days=365, warmup_days=60, seed=3)
    ledger = StockLedger(model)
    days = 0
    while model.running:
        model.step()
        check_invariants(model, ledger)
        days += 1
    assert days == 425 == model.total_days
    rec = model.recorder
    # a year of a growing market outruns some stores' stock: some orders wait for the factory, and
    # every backorder is an order that was kept or cancelled
    assert rec.total("deliveries") > 0 and 0 < rec.total("backorders") <= rec.total("orders") + rec.total("cancellations")
    assert model.date == date(2024, 1, 1)  # the day after the last simulated day (2023-12-31)


def summary(model: MarketModel) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
    return model.recorder.daily(), pd.Series(model.kpis()), model.datacollector.get_model_vars_dataframe()


def test_same_seed_same_results_different_seed_different_results(make_model) -> None:
    runs = {}
    for key, seed in (("a", 5), ("b", 5), ("c", 6)):
        model = make_model(seed=seed, track=[0, 1, 2])
        model.run_model()
        runs[key] = (summary(model), model.population.state.copy(), model.population.consumer(1).trace)
    (daily_a, kpis_a, dc_a), state_a, trace_a = runs["a"]
    (daily_b, kpis_b, dc_b), state_b, trace_b = runs["b"]
    pd.testing.assert_frame_equal(daily_a, daily_b)
    pd.testing.assert_series_equal(kpis_a, kpis_b)
    pd.testing.assert_frame_equal(dc_a, dc_b)
    assert np.array_equal(state_a, state_b) and trace_a == trace_b
    (daily_c, _kpis_c, _), state_c, _ = runs["c"]
    assert not daily_a.drop(columns="date").equals(daily_c.drop(columns="date"))
    assert not np.array_equal(state_a, state_c)


def test_seed_and_rng_arguments_agree(make_model) -> None:
    a = make_model(seed=12, days=20, warmup_days=10)
    b = make_model(seed=None, rng=12, days=20, warmup_days=10)
    a.run_model()
    b.run_model()
    pd.testing.assert_frame_equal(a.recorder.daily(), b.recorder.daily())


def test_datacollector_has_one_row_per_simulated_day(make_model) -> None:
    model = make_model(days=20, warmup_days=15)
    assert model.date == date(2022, 12, 17)
    model.run_model()
    frame = model.datacollector.get_model_vars_dataframe()
    assert len(frame) == 35
    assert frame["recorded"].sum() == 20
    assert frame["date"].iloc[-1] == "2023-01-20"
    assert frame.loc[frame["recorded"], "deliveries"].sum() == model.recorder.total("deliveries")


def test_mesa_batch_run_with_two_seeds() -> None:
    parameters = {"n_consumers": 5000, "days": 30, "warmup_days": 30}
    if "rng" in inspect.signature(mesa.batch_run).parameters:  # Mesa >= 3.5: seeds go through rng=
        seeding = {"rng": [1, 2]}
    else:  # Mesa 3.3: seeds are an ordinary model parameter
        seeding = {"iterations": 1}
        parameters["seed"] = [1, 2]
    results = mesa.batch_run(
        MarketModel, parameters=parameters, max_steps=100, number_processes=1, display_progress=False, **seeding
    )
    frame = pd.DataFrame(results)
    assert len(frame) == 2
    assert sorted(frame["seed"]) == [1, 2]
    assert frame["deliveries"].iloc[0] != frame["deliveries"].iloc[1] or frame["stock"].iloc[0] != frame["stock"].iloc[1]
    assert (frame["Step"] >= 59).all()
    assert (frame["date"] == "2023-01-30").all() and frame["recorded"].all()
    assert {"deliveries", "orders", "leads", "stock", "salespeople", "in_market"} <= set(frame.columns)
    assert (frame["stock"] > 0).all() and (frame["salespeople"] > 0).all()


def test_run_returns_tidy_results_and_saves_them(tmp_path: Path) -> None:
    result = run(seed=4, n_consumers=5_000, days=45)
    assert isinstance(result, RunResult)
    assert result.seed == 4
    assert len(result.daily) == 45 and result.daily["date"].iloc[0] == pd.Timestamp("2023-01-01")
    assert {"month", "deliveries", "stock_coefficient", "nev_share", "focal_share"} <= set(result.monthly.columns)
    assert len(result.dealers) == result.dealers["dealer"].nunique() >= 30
    assert result.kpi("market.nev_share") == pytest.approx(
        100 * result.daily[["deliveries_BEV", "deliveries_PHEV"]].sum().sum() / result.daily["deliveries"].sum()
    )
    folder = result.save(tmp_path / "out")
    kpis = pd.read_csv(folder / "kpis.csv")
    assert list(kpis.columns) == ["id", "value", "unit", "target", "rel_error", "tolerance", "within", "note", "description"]
    pd.testing.assert_frame_equal(pd.read_parquet(folder / "daily.parquet"), result.daily, check_dtype=False)
    assert (folder / "monthly.parquet").is_file() and (folder / "dealers.parquet").is_file()


def test_run_releases_its_model_for_garbage_collection() -> None:
    import gc
    import importlib
    import weakref

    run_module = importlib.import_module("simsales.run")  # the module (the package exports the function)

    seen: list[weakref.ref] = []
    original = run_module.RunResult.from_model

    def spy(model: MarketModel) -> run_module.RunResult:
        seen.append(weakref.ref(model))
        return original(model)

    run_module.RunResult.from_model = spy  # type: ignore[method-assign]
    try:
        run_module.run(n_consumers=2_000, days=5, params={"run.warmup_days": 5})
    finally:
        run_module.RunResult.from_model = original  # type: ignore[method-assign]
    gc.collect()
    assert len(seen) == 1 and seen[0]() is None, "the finished model is still referenced (Mesa 3.3 Agent._ids?)"
