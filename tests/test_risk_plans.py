"""Risk rules fire exactly when their condition holds, their actions run for their days, and
provisions book what they say.  The rule log (`model.timeline.rule_log()`) is checked against the
recorder's monthly table and against the model's state at month ends."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from simsales import MarketModel
from simsales._paths import default_file
from simsales.scenario import load_scenario

from scenario_support import run, scenario

#: A rule to vary (metric, scope, action) in metric tests.
_RULE = load_scenario(default_file("experiments/riskplan_inventory.toml")).risk_rules[0]
SIZE = {"n_consumers": 8_000, "warmup_days": 60, "days": 212}  # 2023-01-01 .. 2023-07-31: seven month ends


def rule(name: str, metric: str, action: dict[str, object], **kwargs: object) -> dict[str, object]:
    return {"name": name, "metric": metric, "action": action, **kwargs}


RESERVE = {"kind": "risk_reserve", "days": 0, "cost_share_of_sales": 0.03}  # books a cost, changes no behaviour


def test_a_rule_fires_exactly_when_its_condition_holds() -> None:
    base = run(scenario(**SIZE), 3)
    monthly = base.recorder.monthly()
    threshold = float(monthly["stock_coefficient"].median())
    watch = rule("overstock", "stock_coefficient", RESERVE, scope="market", above=threshold)
    model = run(scenario(risk_rules=[watch], **SIZE), 3)
    log = model.timeline.rule_log()
    assert list(log.columns) == ["date", "rule", "metric", "scope", "value", "threshold", "condition", "streak", "fired", "action", "action_until", "cost"]
    assert len(log) == 7 and log["date"].min() >= pd.Timestamp("2023-01-31")
    # the rule's metric is the recorder's monthly stock coefficient, and a provision changes nothing else
    assert np.allclose(log["value"].to_numpy(), monthly["stock_coefficient"].to_numpy())
    assert base.recorder.daily().drop(columns="risk_cost").equals(model.recorder.daily().drop(columns="risk_cost"))
    assert (log["condition"] == (log["value"] > threshold)).all()
    assert (log["fired"] == log["condition"]).all()
    assert 0 < log["fired"].sum() < len(log)


def test_a_rule_needing_two_months_waits_for_two_in_a_row() -> None:
    watch = rule("always_twice", "always", RESERVE, months=2)
    log = run(scenario(risk_rules=[watch], **SIZE), 1).timeline.rule_log()
    assert log["fired"].tolist() == [False, True, False, True, False, True, False]
    assert log["streak"].tolist() == [1, 2, 1, 2, 1, 2, 1]  # the streak that made it fire; it restarts after


def test_a_rule_does_not_fire_again_while_its_action_runs() -> None:
    action = {"kind": "clearance", "days": 45, "discount": 0.1, "age_days": 30}
    log = run(scenario(risk_rules=[rule("clear", "always", action)], **SIZE), 1).timeline.rule_log()
    # fires on 31 Jan (runs 1 Feb - 17 Mar), skips 28 Feb, fires 31 Mar (to 15 May), skips 30 Apr, ...
    assert log["fired"].tolist() == [True, False, True, False, True, False, True]
    fired = log[log["fired"]]
    assert (fired["action_until"] == fired["date"] + timedelta(days=45)).all()


def test_an_action_sets_its_levers_for_its_days_only() -> None:
    action = {"kind": "clearance", "days": 10, "discount": 0.1, "age_days": 30}
    spec = scenario(risk_rules=[rule("clear", "always", action, end="2023-02-28")], **SIZE)
    model = MarketModel(scenario=spec, seed=1)
    focal = model.network.focal
    on = {}
    while model.running:
        model.step()
        on[(model.date - timedelta(days=1)).isoformat()] = bool((model.levers.clearance_discount[focal] > 0).all())
        assert not (model.levers.clearance_discount[~focal] > 0).any()
    days_on = sorted(d for d, v in on.items() if v)
    assert days_on == [f"2023-02-{d:02d}" for d in range(1, 11)] + [f"2023-03-{d:02d}" for d in range(1, 11)]


def test_a_provision_books_its_share_of_the_months_sales() -> None:
    model = run(scenario(risk_rules=[rule("reserve", "always", RESERVE)], **SIZE), 2)
    daily = model.recorder.daily().set_index("date")
    month_ends = daily.index[(daily.index + pd.Timedelta(days=1)).day == 1]
    risk = daily["risk_cost"]
    assert (risk.drop(month_ends) == 0).all()  # booked at month ends only
    booked = risk[month_ends]
    assert (booked > 0).sum() >= len(month_ends) - 1  # at 8,000 consumers a month can pass without a focal sale
    for end in month_ends:
        month = daily.loc[end.replace(day=1) : end]
        assert booked[end] == pytest.approx(0.03 * month["focal_revenue"].sum())
    log = model.timeline.rule_log()
    assert np.allclose(log["cost"].to_numpy(), booked.to_numpy())


def test_focal_metrics_are_read_from_the_model_at_month_end() -> None:
    rules = [
        rule("aged", "aged_stock_share", RESERVE, age_days=60, above=0.0),
        rule("attrition", "attrition", RESERVE, above=0.0),
        rule("gap", "talent_gap", RESERVE, above=0.0),
        rule("share", "market_share", RESERVE, above=0.0),
    ]
    model = MarketModel(scenario=scenario(risk_rules=rules, **SIZE), seed=4)
    expected = []
    while model.running:
        model.step()
        if model.date.day == 1 and model.date.isoformat() >= "2023-02-01":
            net, sf = model.network, model.salesforce
            focal_stock = net.stock[net.focal]
            slots, w = net.focal[sf.dealer] & net.is_open[sf.dealer], sf.weight  # staff each slot stands for
            expected.append(
                {
                    "aged": focal_stock[:, :, 61:].sum() / focal_stock.sum(),
                    "attrition": w[sf.last_leavers & slots].sum() / w[sf.filled & slots].sum(),
                    "gap": w[slots & ~sf.filled].sum() / w[slots].sum(),
                }
            )
    log = model.timeline.rule_log()
    for name in ("aged", "attrition", "gap"):
        assert np.allclose(log.loc[log["rule"] == name, "value"].to_numpy(), [e[name] for e in expected])
    monthly = model.recorder.monthly()
    assert np.allclose(log.loc[log["rule"] == "share", "value"].to_numpy() * 100, monthly["focal_share"].to_numpy())


@pytest.mark.slow
def test_the_same_plan_runs_with_and_without_its_shock() -> None:
    plain = load_scenario(default_file("experiments/riskplan_talent.toml"))
    shocked = load_scenario(default_file("experiments/riskplan_talent_under_exodus.toml"))
    assert plain.risk_rules == shocked.risk_rules and len(plain.risk_rules) == 2
    assert not plain.shocks and shocked.shocks[0].kind == "attrition_spike"
    small = {"run.n_consumers": 60_000, "run.warmup_days": 60, "run.days": 273}  # to 30 Sep; about 13 focal salespeople
    attrition = {"plain": 0.0, "shocked": 0.0}
    for seed in (1, 2):
        logs = {}
        for name, spec in (("plain", plain), ("shocked", shocked)):
            log = run(spec.replace(**small), seed).timeline.rule_log()
            reserve = log[log["rule"] == "talent_reserve"]
            assert reserve["fired"].all() and (reserve["cost"] > 0).all()  # the 5% payroll reserve, every month
            logs[name] = log[log["rule"] == "attrition_retention_bonus"].set_index("date")
        before = logs["plain"].index < "2023-04-01"  # the exodus starts in April: identical until then
        assert logs["plain"][before].equals(logs["shocked"][before])
        during = (logs["plain"].index >= "2023-04-01") & (logs["plain"].index <= "2023-09-30")
        for name in attrition:
            attrition[name] += logs[name].loc[during, "value"].sum()
    # with the fitted 2023 defaults: 0.61 vs 0.49 summed over April-September (two seeds pooled)
    assert attrition["shocked"] > 1.15 * attrition["plain"]



def test_every_metric_has_a_value_at_every_scope_it_allows() -> None:
    """Each metric a scenario may name is computed (a number, not an error) at each allowed scope,
    and market-scope shares equal the recorder's monthly table."""
    from simsales.events import rules as rule_metrics
    from simsales.scenario.events import METRICS

    model = MarketModel(n_consumers=5_000, warmup_days=60, days=59, seed=4)
    model.run_model()
    february = model.recorder.monthly().iloc[-1]
    m0 = model.spec.run.warmup_days + 31  # 1 February 2023 .. 28 February 2023
    m1 = m0 + 27
    for name, (_, scopes) in METRICS.items():
        for scope in scopes:
            r = dataclasses.replace(_RULE, metric=name, scope=scope)
            value = rule_metrics.metric(model, r, m0, m1, m0 - 31)
            assert isinstance(value, float) and np.isfinite(value), (name, scope, value)
    expected = {"nev_share": february["nev_share"] / 100, "satisfaction": february["satisfaction_sum"] / february["deliveries"]}
    for name, value in expected.items():
        r = dataclasses.replace(_RULE, metric=name, scope="market")
        assert rule_metrics.metric(model, r, m0, m1, m0 - 31) == pytest.approx(value)
