"""Salespeople: slot arrays plus Mesa agents; assignment, onboarding ramp, attrition and hiring."""

from __future__ import annotations

import dataclasses

import mesa
import numpy as np
import pytest

from simsales.agents.salespeople import Salesforce, Salesperson
from simsales.scenario import Scenario
from simsales.scenario.schema import DAYS_PER_MONTH
from simsales.streams import Streams


def make_force(baseline: Scenario, positions: list[int] | np.ndarray, seed: int = 3, **spec_changes) -> Salesforce:
    """A salesforce on a bare Mesa model (the agents only need `model.salesforce` and `model.streams`)."""
    model = mesa.Model(rng=seed)
    model.streams = Streams(seed)
    spec = dataclasses.replace(baseline.salesforce, **spec_changes)
    model.salesforce = Salesforce(model, spec, np.asarray(positions))
    return model.salesforce


def salespeople(force: Salesforce) -> list[Salesperson]:
    return list(force.model.agents_by_type.get(Salesperson, []))


def test_every_filled_slot_has_one_agent(baseline: Scenario) -> None:
    force = make_force(baseline, [5, 3, 0, 8])
    assert force.n_slots == 16
    agents = salespeople(force)
    assert len(agents) == force.headcount() == force.filled.sum()
    assert sorted(a.slot for a in agents) == np.flatnonzero(force.filled).tolist()
    for a in agents:
        assert a.dealer == force.dealer[a.slot]
        assert 0.0 <= a.nev_knowledge <= 1.0


def test_assign_returns_staff_of_the_visited_dealer(baseline: Scenario) -> None:
    force = make_force(baseline, [5, 3, 0, 8, 1], initial_vacancy=0.3)
    rng = np.random.default_rng(0)
    dealers = rng.integers(0, 5, 5_000)
    slots = force.assign(dealers, rng.random(5_000))
    staffed = force.active_count[dealers] > 0
    assert np.all(slots[~staffed] == -1)
    assert np.all(force.dealer[slots[staffed]] == dealers[staffed])
    assert np.all(force.filled[slots[staffed]]), "a vacant slot served a visitor"
    # every salesperson of a staffed dealer gets visitors
    for d in np.flatnonzero(force.active_count):
        served = set(slots[dealers == d].tolist())
        assert served == set(np.flatnonzero(force.filled & (force.dealer == d)).tolist())


def test_assign_with_uniform_near_one_stays_in_range(baseline: Scenario) -> None:
    force = make_force(baseline, [4, 4], initial_vacancy=0.0)
    slots = force.assign(np.array([0, 1]), np.array([0.999999999, 0.999999999]))
    assert slots.tolist() == [3, 7]


def test_ramp_goes_from_half_to_full(baseline: Scenario) -> None:
    force = make_force(baseline, [3], initial_vacancy=0.0)
    months = force.onboarding_months
    force.tenure_days[:] = [0, int(months * DAYS_PER_MONTH / 2), int(months * DAYS_PER_MONTH * 2)]
    ramp = force.ramp()
    assert ramp[0] == pytest.approx(0.5)
    assert ramp[1] == pytest.approx(0.75, abs=0.01)
    assert ramp[2] == pytest.approx(1.0)


def test_month_end_rates_match_the_parameters(baseline: Scenario) -> None:
    """Over 12 months of 20,000 slots leavers and hires follow the monthly probabilities."""
    force = make_force(baseline, [200] * 100, monthly_attrition=0.03, hire_prob_month=0.10)
    leavers = hires = at_risk = vacancies = 0
    for month in range(12):
        at_risk += int(force.filled.sum())
        vacancies += int((~force.filled).sum())
        out, hired = force.month_end(day=30 * month)
        leavers += out
        hires += hired
        assert len(salespeople(force)) == force.headcount()
    # binomial standard errors: sqrt(0.03*0.97/~190k) ~ 0.0004, sqrt(0.1*0.9/~50k) ~ 0.0013; allow 5
    assert leavers / at_risk == pytest.approx(0.03, abs=5 * np.sqrt(0.03 * 0.97 / at_risk))
    assert hires / vacancies == pytest.approx(0.10, abs=5 * np.sqrt(0.10 * 0.90 / vacancies))


def test_month_end_adds_and_removes_mesa_agents(baseline: Scenario) -> None:
    force = make_force(baseline, [50] * 20, monthly_attrition=0.2, hire_prob_month=0.5, initial_vacancy=0.3)
    model = force.model
    before = {a.slot: a for a in salespeople(force)}
    filled_before = force.filled.copy()
    leavers, hires = force.month_end(day=30)
    assert leavers > 0 and hires > 0
    after = {a.slot: a for a in salespeople(force)}
    left = np.flatnonzero(filled_before & ~force.filled)
    hired = np.flatnonzero(~filled_before & force.filled)
    assert len(left) == leavers and len(hired) == hires
    for slot in left:
        assert before[slot] not in model.agents, "a leaver is still a model agent"
        assert slot not in after
    for slot in hired:
        assert after[slot] not in before.values()
        assert after[slot].tenure_days == round(DAYS_PER_MONTH)
        assert after[slot].nev_knowledge == pytest.approx(force.new_hire_knowledge + force.learning_per_month)
    assert len(model.agents) == force.headcount()


def test_month_end_reindexes_assignment(baseline: Scenario) -> None:
    force = make_force(baseline, [6, 6], monthly_attrition=1.0, hire_prob_month=0.0, initial_vacancy=0.0)
    force.month_end(day=30)
    assert force.headcount() == 0
    assert np.all(force.assign(np.array([0, 1, 1]), np.array([0.1, 0.5, 0.9])) == -1)


def test_model_salespeople_match_salesforce(make_model) -> None:
    params = {"salesforce.monthly_attrition": 0.5, "salesforce.hire_prob_month": 0.5}
    model = make_model(days=40, warmup_days=0, start_date="2023-01-01", params=params)
    model.run_model()  # crosses one month end
    assert model.recorder.flows["leavers"].sum() + model.recorder.flows["hires"].sum() > 0
    assert len(model.salespeople) == model.salesforce.filled.sum()
    for d in range(0, model.network.n, 7):
        assert all(s.dealer == d for s in model.dealers[d].salespeople)
