"""Property-based: random valid scenarios drawn from the schema's own ranges run small without an
exception, a silent NaN or inf, and keep the model's invariants (issue 13).

Values are drawn from each field's metadata (min, max, exclusive_min), so a range widened in the
schema is tested at its new edges automatically.  Fixed seed and a bounded number of examples keep
it reproducible and inside a minute.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from simsales import MarketModel, Scenario, load_scenario
from simsales.kpis import REGISTRY, compute_kpis, note_of
from simsales.recorder import FLOWS
from simsales.scenario import ScenarioError
from simsales.scenario.events import SHOCK_KINDS, Scope

SEED = int(__import__("os").environ.get("EDGES_SEED", "13"))
SMALL = {"run.n_consumers": 1_500, "run.warmup_days": 40, "run.days": 75}
#: Flows that are money (may be negative: margins below discounts) rather than counts.
MONEY = {f for f in FLOWS if any(w in f for w in ("revenue", "cost", "margin", "subsidies"))}
#: "%" KPIs that are not shares of a whole: leads per showroom session and a yearly rate.  The journey's
#: step rates (test drives per visitor, orders per test drive or lead) count numerator and denominator
#: over one cohort, so they are shares and stay in [0, 100].
NOT_SHARES = {
    "journey.online_lead_capture",
    "talent.annual_attrition",  # leavers per year over average headcount: a yearly rate, may exceed 100%
}


@pytest.fixture(scope="module")
def base() -> Scenario:
    return load_scenario(overrides=SMALL)


def _numeric_fields(cls: Any, prefix: str) -> list[tuple[str, Any, dict[str, Any]]]:
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        if hints[f.name] in (int, float) and "max" in f.metadata:
            out.append((f"{prefix}.{f.name}", hints[f.name], dict(f.metadata)))
    return out


#: Scenario fields a random scenario varies (the run size stays small on purpose).
FIELDS = [
    item
    for section in ("population", "salesforce", "journey", "ownership", "inventory", "policy")
    for item in _numeric_fields(type(getattr(load_scenario(), section)), section)
]


def _value(draw: Any, tp: Any, meta: dict[str, Any]) -> Any:
    low, high = float(meta["min"]), float(meta["max"])
    edge = draw(st.sampled_from(["low", "high", "inside", "inside", "inside"]))
    if tp is int:
        lo = math.floor(low) + (1 if meta.get("exclusive_min") and float(int(low)) == low else 0)
        hi = int(high)
        return lo if edge == "low" else hi if edge == "high" else draw(st.integers(lo, hi))
    if edge == "high":
        return high
    if edge == "low":
        return math.nextafter(low, math.inf) if meta.get("exclusive_min") else low
    if low > 0 and high / max(low, 1e-12) > 1e3:  # wide positive ranges: log-uniform
        return float(math.exp(draw(st.floats(math.log(max(low, 1e-6)), math.log(high)))))
    value = draw(st.floats(low, high, allow_nan=False, allow_infinity=False, exclude_min=bool(meta.get("exclusive_min"))))
    return float(value)


@st.composite
def scenarios(draw: Any, base: Scenario) -> dict[str, Any]:
    """Dotted overrides of a few fields and up to two random shocks, all inside the schema's ranges."""
    chosen = draw(st.lists(st.sampled_from(FIELDS), min_size=1, max_size=6, unique_by=lambda x: x[0]))
    overrides: dict[str, Any] = {key: _value(draw, tp, meta) for key, tp, meta in chosen}
    shocks = []
    first = base.run.start_date - timedelta(days=base.run.warmup_days)
    for i in range(draw(st.integers(0, 2))):
        kind = draw(st.sampled_from(sorted(SHOCK_KINDS)))
        cls = SHOCK_KINDS[kind]
        hints = typing.get_type_hints(cls)
        params = {}
        for f in dataclasses.fields(cls):
            tp = hints[f.name]
            arms = [a for a in typing.get_args(tp) if a is not type(None)] or [tp]
            if arms[0] in (int, float) and "max" in f.metadata and draw(st.booleans()):
                params[f.name] = _value(draw, arms[0], dict(f.metadata))
        if kind == "purchase_tax" and not params:
            params["exemption"] = 0.5
        start = first + timedelta(days=draw(st.integers(0, base.run.warmup_days + base.run.days - 1)))
        shocks.append({"kind": kind, "name": f"s{i}", "start": start.isoformat(), **params})
    if shocks:
        overrides["shocks"] = shocks
    return overrides


def _check_invariants(model: MarketModel) -> None:
    rec = model.recorder
    for name, series in rec.flows.items():
        assert np.isfinite(series).all(), f"flow {name} not finite"
        if name not in MONEY:
            assert (series >= 0).all(), f"count {name} negative"
    for name, series in rec.levels.items():
        assert np.isfinite(series).all() and (series >= 0).all(), f"level {name}"
    f = rec.flows
    assert np.allclose(f["deliveries_BEV"] + f["deliveries_PHEV"] + f["deliveries_ICE"], f["deliveries"])
    assert (model.network.stock >= 0).all()
    assert (rec.levels["headcount"] <= rec.levels["positions"] + 1e-9).all()
    for key, value in compute_kpis(model).items():
        assert not math.isinf(value), f"{key} is inf"
        if math.isnan(value):
            assert note_of(value), f"{key} is NaN without a note"
            continue
        kpi = REGISTRY[key]
        if kpi.unit == "%" and key not in NOT_SHARES and not key.endswith("_yoy") and not key.startswith("cost."):
            assert -1e-9 <= value <= 100 + 1e-9, f"{key} = {value} outside [0, 100]"


@pytest.mark.timeout(120)
def test_random_valid_scenarios_run_clean(base: Scenario) -> None:
    tried = {"ran": 0, "refused": 0}

    @seed(SEED)
    @settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck), database=None)
    @given(scenarios(base))
    def check(overrides: dict[str, Any]) -> None:
        try:
            scenario = base.replace(**overrides)
            model = MarketModel(scenario=scenario, seed=5)
        except ScenarioError as exc:  # a cross-field check refused it before running: allowed, never a traceback
            tried["refused"] += 1
            print("refused:", exc.key, exc.detail[:100])
            return
        model.run_model()
        _check_invariants(model)
        tried["ran"] += 1

    check()
    print(tried)
    assert tried["ran"] >= 8, tried  # most random valid scenarios do run


def test_every_numeric_field_has_a_range() -> None:
    """Every int/float field of a scenario, an event kind or a cost has a minimum and a maximum."""
    from simsales.scenario import events, schema

    classes = [getattr(schema, n) for n in dir(schema) if dataclasses.is_dataclass(getattr(schema, n))]
    classes += [c for c in vars(events).values() if isinstance(c, type) and dataclasses.is_dataclass(c)]
    missing = []
    for cls in classes:
        if cls is Scope:
            continue
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            arms = [a for a in typing.get_args(hints[f.name]) if a is not type(None)] or [hints[f.name]]
            if arms[0] in (int, float) and not {"min", "max"} <= set(f.metadata):
                missing.append(f"{cls.__name__}.{f.name}")
    assert not missing, missing
