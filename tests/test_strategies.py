"""Strategies act through the model's mechanisms, roll out on their dates and cost what they say.

As in test_shocks.py: outcome tests pool three seeded replicates with and without the strategy
(several strategies are applied to every firm, scope firm = "all", so that a small model shows the
mechanism clearly; the focal-firm scoping is tested on the first day, where it is exact), and
mechanism tests compare a model with its baseline twin on the strategy's first day.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from simsales import MarketModel

from scenario_support import (
    EVENT_DAY,
    choice_probabilities,
    nev_probability,
    outcome,
    paired,
    pooled,
    run,
    scenario,
    total,
)

ALL = {"firm": "all"}


def strategy(kind: str, **kwargs: object) -> dict[str, object]:
    return {"kind": kind, "start": EVENT_DAY, **kwargs}


def at_focal(model: MarketModel, n: int = 3_000) -> np.ndarray:
    """Which of the consumers placed by `choice_probabilities` stand in a focal store."""
    return model.network.focal[np.arange(n) % model.network.n]


# --- digital -------------------------------------------------------------------------------------


def test_omnichannel_platform_cuts_repeated_questions_and_cold_leads() -> None:
    # -0.41 to -0.44 repeated-question share and -0.31 to -0.34 cold-lead share per seed when written
    base, treated = outcome(strategies=[strategy("omnichannel_platform", scope=ALL)])
    assert pooled(treated, ["repeat_questions"], ["online_lead_visits"]) < pooled(base, ["repeat_questions"], ["online_lead_visits"]) - 0.2
    assert pooled(treated, ["leads_cold"], ["online_leads"]) < pooled(base, ["leads_cold"], ["online_leads"]) - 0.15
    b, t = paired(strategies=[strategy("omnichannel_platform")])
    focal = b.network.focal
    handover = t.network.info_handover * t.levers.handover_factor
    assert np.allclose(np.minimum(handover[focal], 1.0), np.maximum(0.95, b.network.info_handover[focal]))
    assert np.array_equal(t.levers.handover_factor[~focal], b.levers.handover_factor[~focal])


def test_ai_customer_service_answers_leads_before_they_go_cold() -> None:
    # -0.22 to -0.23 cold-lead share per seed when written
    base, treated = outcome(strategies=[strategy("ai_customer_service", scope=ALL)])
    assert pooled(treated, ["leads_cold"], ["online_leads"]) < pooled(base, ["leads_cold"], ["online_leads"]) - 0.1


def test_ai_recommendation_makes_focal_visitors_more_likely_to_buy() -> None:
    b, t = paired(strategies=[strategy("ai_recommendation", match_gain=0.3)])
    _, leave_b = choice_probabilities(b)
    _, leave_t = choice_probabilities(t)
    focal = at_focal(b)
    assert np.all(leave_t[focal] < leave_b[focal])
    assert np.array_equal(leave_t[~focal], leave_b[~focal])
    base, treated = outcome(strategies=[strategy("ai_recommendation", match_gain=0.6, scope=ALL)])
    assert pooled(treated, ["orders"], ["store_visitors"]) > pooled(base, ["orders"], ["store_visitors"]) + 0.02


def test_vr_showroom_brings_more_online_leads() -> None:
    # lead_factor multiplies the capture per showroom session: P(lead) 0.70 -> 1 - 0.3^1.4 = 0.81
    # and 1/1.4 of the sessions; +15% online leads pooled when written
    base, treated = outcome(strategies=[strategy("vr_showroom", lead_factor=1.4, scope=ALL)])
    assert sum(total(m, "online_leads") for m in treated) > 1.1 * sum(total(m, "online_leads") for m in base)
    assert pooled(treated, ["online_leads"], ["showroom_sessions"]) > 1.4 * pooled(base, ["online_leads"], ["showroom_sessions"])


def test_online_ordering_closes_sales_without_store_visits() -> None:
    base, treated = outcome(strategies=[strategy("online_ordering", share=0.5, scope=ALL)])
    assert all(total(m, "online_decisions") > 0 for m in treated)
    assert all(total(m, "online_decisions") == 0 for m in base)
    assert pooled(treated, ["visits"], ["orders"]) < pooled(base, ["visits"], ["orders"]) - 0.1


# --- talent ---------------------------------------------------------------------------------------


def test_sales_academy_raises_nev_knowledge() -> None:
    academy = strategy("sales_academy", knowledge_per_month=0.05, scope=ALL)
    base, treated = outcome(strategies=[academy])
    for b, t in zip(base, treated, strict=True):
        assert t.kpis()["talent.battery_explain_share"] > b.kpis()["talent.battery_explain_share"] + 5


def test_mentoring_shortens_onboarding_of_the_focal_firms_new_hires() -> None:
    b, t = paired(strategies=[strategy("mentoring", onboarding_months=3)])
    sf_b, sf_t = b.salesforce, t.salesforce
    focal = b.network.focal[sf_b.dealer]
    assert np.array_equal(sf_b.tenure_days, sf_t.tenure_days)
    learning = sf_b.tenure_days < 180
    assert np.all(sf_t.ramp()[focal & learning] > sf_b.ramp()[focal & learning])
    assert np.array_equal(sf_t.ramp()[~focal], sf_b.ramp()[~focal])


def test_incentive_reform_cuts_misdescriptions_and_test_drive_push() -> None:
    # misdescribed share -0.13 to -0.21 and test-drive rate -0.04 to -0.07 per seed when written
    base, treated = outcome(strategies=[strategy("incentive_reform", volume_weight=0.35, scope=ALL)])
    assert pooled(treated, ["misdescribed"], ["deliveries"]) < pooled(base, ["misdescribed"], ["deliveries"]) - 0.08
    assert pooled(treated, ["test_drives"], ["store_visitors"]) < pooled(base, ["test_drives"], ["store_visitors"]) - 0.02
    assert treated[0].kpis()["consumer.misdescribed_range"] < base[0].kpis()["consumer.misdescribed_range"]


def test_career_tracks_keep_salespeople() -> None:
    base, treated = outcome(strategies=[strategy("career_tracks", attrition_factor=0.3, scope=ALL)])
    assert sum(total(m, "leavers") for m in treated) < 0.6 * sum(total(m, "leavers") for m in base)


# --- channel and inventory ------------------------------------------------------------------------


def test_store_network_opens_staffed_stores_on_their_dates_with_their_costs() -> None:
    # counts are real outlets; each entry opens in monthly tranches over the ramp, one agent each
    stores = [
        {"format": "community", "tier": "lower", "count": 2, "setup_cost": 1.5e6},
        {"format": "mobile_van", "tier": "lower", "count": 1, "setup_cost": 0.8e6},
    ]
    plan = strategy("store_network", start="2023-02-01", ramp_days=60, stores=stores, setup_cost=1e6)
    spec = scenario(strategies=[plan], days=120)
    model = MarketModel(scenario=spec, seed=2)
    net, sf = model.network, model.salesforce
    new = np.arange(net.n - 3, net.n)
    assert net.n == MarketModel(scenario=scenario(days=120), seed=2).network.n + 3
    assert [net.formats[f].name for f in net.fmt[new]] == ["community", "mobile_van", "community"]
    assert net.outlet_weight[new].tolist() == [1.0, 1.0, 1.0]
    assert np.all(net.focal[new]) and not np.any(net.is_open[new])
    assert not sf.filled[np.isin(sf.dealer, new)].any()
    opened: dict[int, date] = {}
    while model.running:
        model.step()
        for d in new:
            if net.is_open[d] and d not in opened:
                opened[int(d)] = model.date  # the day after the opening step
    assert [opened[int(d)].isoformat() for d in new] == ["2023-02-02", "2023-02-02", "2023-03-04"]
    assert sf.filled[np.isin(sf.dealer, new)].sum() > 0
    daily = model.recorder.daily()
    setup = daily.loc[daily["date"] == "2023-02-01", "strategy_cost"].item()
    assert setup == pytest.approx((1e6 + 1.5e6 + 0.8e6) * model.timeline.plan.scale)
    assert daily["open_stores"].iloc[0] == pytest.approx(net.n - 3)
    assert daily["open_stores"].iloc[-1] == pytest.approx(net.n - 3 + 3 / net.base_outlet_weight)  # three real outlets
    base = run(scenario(days=120), 2)
    assert total(model, "fixed_cost") > total(base, "fixed_cost")


def test_stores_opening_on_the_first_day_are_part_of_the_built_network() -> None:
    stores = [{"format": "community", "tier": "lower", "count": 2}]
    spec = scenario(strategies=[strategy("store_network", start="2022-11-02", stores=stores)], days=30)  # first simulated day
    model = MarketModel(scenario=spec, seed=3, n_consumers=200_000)  # a store agent's stock rounds to whole cars: at 20,000 consumers to 0
    new = np.arange(model.network.n - 2, model.network.n)
    assert model.network.is_open[new].all()
    assert model.network.stock[new].sum() > 0  # initial stock like every other store
    assert model.salesforce.filled[np.isin(model.salesforce.dealer, new)].any()
    assert (model.dealer_weights[:, new] > 0).all()


def test_demand_forecasting_lowers_the_focal_firms_stock() -> None:
    # -12% to -17% focal stock over the last month per seed when written
    base, treated = outcome(strategies=[strategy("demand_forecasting", cover_factor=0.5)])
    stock = lambda models: sum(m.recorder.window("stock_focal")[-30:].mean() for m in models)  # noqa: E731
    assert stock(treated) < 0.92 * stock(base)


def test_inventory_sharing_moves_stock_and_pays_per_car_moved() -> None:
    model = run(scenario(strategies=[strategy("inventory_sharing", cover_factor=1.0, transfer_cost=1500)]), 1)
    daily = model.recorder.daily()
    assert daily["transfers"].sum() > 0
    assert np.allclose(daily["strategy_cost"], daily["transfers"] * 1500)
    assert (daily.loc[daily["date"] < EVENT_DAY, "transfers"] == 0).all()


def test_clearance_discounts_only_products_with_old_stock_at_focal_stores() -> None:
    b, t = paired(strategies=[strategy("clearance", discount=0.08, age_days=60)])
    net = t.network
    old = net.stock[:, :, 61:].any(axis=2)
    focal = net.focal[:, None]
    assert np.allclose(t.network.discount[old & focal], b.network.discount[old & focal] + 0.08)
    assert np.array_equal(t.network.discount[~(old & focal)], b.network.discount[~(old & focal)])
    assert (old & focal).any()


def test_trade_in_programme_helps_owners_at_the_firms_stores_and_costs_the_premium() -> None:
    b, t = paired(strategies=[strategy("trade_in_programme", premium=10000)])
    _, leave_b = choice_probabilities(b)
    _, leave_t = choice_probabilities(t)
    owners = b.population.owns_car[:3000]
    focal = at_focal(b)
    assert np.all(leave_t[owners & focal] < leave_b[owners & focal])
    assert np.array_equal(leave_t[~(owners & focal)], leave_b[~(owners & focal)])
    model = run(scenario(strategies=[strategy("trade_in_programme", premium=10000)], days=90), 1)
    paid = total(model, "strategy_cost") / 10000
    assert paid == int(paid) and 0 < paid <= total(model, "focal_orders")


# --- service --------------------------------------------------------------------------------------


def test_after_sales_speed_raises_satisfaction() -> None:
    # +2.1 to +3.5 points per seed when written (repair wait 2.3 -> 0 days at 1 point a day)
    base, treated = outcome(strategies=[strategy("after_sales", repair_wait_days=0.0, scope=ALL)])
    assert pooled(treated, ["satisfaction_sum"], ["deliveries"]) > pooled(base, ["satisfaction_sum"], ["deliveries"]) + 1.0


def test_user_community_brings_more_referrals() -> None:
    # referrals more than doubled per seed when written (factor 2)
    base, treated = outcome(strategies=[strategy("user_community", referral_factor=2.0, scope=ALL)])
    assert sum(total(m, "referrals") for m in treated) > 1.5 * sum(total(m, "referrals") for m in base)


def test_membership_lowers_churn() -> None:
    base, treated = outcome(strategies=[strategy("membership", churn_factor=0.4, scope=ALL)])
    assert pooled(treated, ["churned"], ["first_services"]) < pooled(base, ["churned"], ["first_services"]) - 0.08


def test_ecosystem_packages_raise_nev_choice_at_the_firms_stores_only() -> None:
    b, t = paired(strategies=[strategy("ecosystem_packages", utility=0.3)])
    p_b, p_t = nev_probability(b), nev_probability(t)
    focal = at_focal(b)
    assert np.all(p_t[focal] > p_b[focal])
    assert np.array_equal(p_t[~focal], p_b[~focal])


# --- roll-out, costs, phases -----------------------------------------------------------------------


def test_roll_out_ramps_linearly_then_holds() -> None:
    spec = scenario(strategies=[strategy("career_tracks", start="2023-02-01", ramp_days=10, attrition_factor=0.5)], days=70)
    model = MarketModel(scenario=spec, seed=1)
    focal = model.network.focal
    values = {}
    while model.running:
        model.step()
        values[model.date.toordinal() - 1] = model.levers.attrition_factor[focal][0]  # levers of the day just simulated
    first = date(2023, 2, 1).toordinal()
    assert values[first - 1] == 1.0
    for k in range(10):
        assert values[first + k] == pytest.approx(1.0 - 0.5 * (k + 1) / 10)
    assert values[first + 20] == pytest.approx(0.5)
    assert np.all(model.levers.attrition_factor[~focal] == 1.0)


def test_costs_enter_the_cost_flows() -> None:
    costs = {"setup_cost": 20e6, "cost_month": 3e6, "cost_share_of_sales": 0.02, "cost_share_of_payroll": 0.1}
    model = run(scenario(strategies=[strategy("risk_reserve", **costs)], days=60), 1)
    daily = model.recorder.daily()
    scale = model.timeline.plan.scale
    after = daily["date"] >= EVENT_DAY
    start = daily.index[daily["date"] == EVENT_DAY][0]
    focal_slots = model.network.focal[model.salesforce.dealer]
    salary = model.spec.salesforce.salary_month / (365 / 12)
    expected = 3e6 * scale / (365 / 12) + 0.02 * daily["focal_revenue"]
    assert (daily.loc[~after, "strategy_cost"] == 0).all()
    # payroll share varies with the focal headcount; it is between 0 and the full focal payroll
    extra = daily.loc[after, "strategy_cost"] - expected[after]
    extra[start] -= 20e6 * scale
    focal_staff = model.salesforce.positions(focal_slots)  # the staff the focal positions stand for
    assert (extra > 0).all() and (extra <= 0.1 * focal_staff * salary + 1e-9).all()
    kpis, base = model.kpis(), run(scenario(days=60), 1).kpis()
    assert kpis["focal.profit"] < base["focal.profit"]
    assert kpis["cost.sales_cost_ratio"] > base["cost.sales_cost_ratio"]
    assert kpis["cost.plan_cost_ratio"] > 0 == base["cost.plan_cost_ratio"]


def test_the_plans_phases_switch_levers_on_their_dates() -> None:
    phases = [
        strategy("omnichannel_platform", start="2023-01-20"),
        strategy("ai_customer_service", start="2023-02-10", end="2023-02-28"),
        strategy("user_community", start="2023-03-01"),
    ]
    model = MarketModel(scenario=scenario(strategies=phases, days=80), seed=1)
    d = int(np.flatnonzero(model.network.focal)[0])
    seen = {}
    while model.running:
        model.step()
        lev = model.levers
        seen[model.date.toordinal() - 1] = (lev.handover_factor[d] > 1, lev.ai_handled_share[d] > 0, lev.referral_factor[d] > 1)
    on = lambda iso: seen[date.fromisoformat(iso).toordinal()]  # noqa: E731
    assert on("2023-01-19") == (False, False, False)
    assert on("2023-01-20") == (True, False, False)
    assert on("2023-02-10") == (True, True, False)
    assert on("2023-02-28") == (True, True, False)
    assert on("2023-03-01") == (True, False, True)

