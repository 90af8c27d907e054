"""Bad scenario input is refused before any simulation, with a message naming the file, the key
path and what is allowed; the same rules hold for scenarios built in Python."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import pytest

from simsales import MarketModel
from simsales.scenario import ScenarioError, load_scenario
from simsales.scenario.events import Action, Demand, ListPrice, Mentoring, RiskReserve, RiskRule, Scope, Shock, Strategy
from simsales.scenario.toml_out import dumps

DATA = Path(__file__).parent / "data" / "scenarios"

#: file -> (key path of the error, a fragment of its message)
MALFORMED = {
    "bad_unknown_section.toml": ("shokcs", "did you mean 'shocks'?"),
    "bad_unknown_kind.toml": ("shocks[0].kind", "did you mean 'list_price'?"),
    "bad_strategy_under_shocks.toml": ("shocks[0].kind", "belongs under [[strategies]]"),
    "bad_typo_in_parameter.toml": ("shocks[0].chnage", "did you mean 'change'?"),
    "bad_wrong_type.toml": ("shocks[0].change", "expected a number, got 'ten percent'"),
    "bad_probability_above_one.toml": ("strategies[0].handled_share", "1.5 is out of range; allowed: [0.0, 1.0]"),
    "bad_negative_subsidy.toml": ("shocks[0].nev", "-5000.0 is out of range; allowed: [0.0, 1e+08]"),
    "bad_negative_count.toml": ("strategies[0].stores[0].count", "-2 is out of range; allowed: [1, 100000]"),
    "bad_start_before_horizon.toml": ("shocks[0].start", "start 2019-01-01 is outside the horizon"),
    "bad_start_after_horizon.toml": ("strategies[0].start", "start 2030-01-01 is outside the horizon"),
    "bad_end_before_start.toml": ("shocks[0].end", "end 2023-05-01 is before start 2023-06-01"),
    "bad_not_a_date.toml": ("shocks[0].start", "expected a date like 2023-01-01, got 'next spring'"),
    "bad_missing_start.toml": ("strategies[0].start", "missing required value"),
    "bad_unknown_product.toml": ("shocks[0].scope.product", "unknown product 'bev_cty' (did you mean 'bev_city'?)"),
    "bad_unknown_powertrain.toml": ("shocks[0].scope.powertrain", "unknown powertrain 'EV'"),
    "bad_unknown_store_format.toml": ("strategies[0].stores[0].format", "unknown store format 'flagshop' (did you mean 'flagship'?)"),
    "bad_unknown_firm.toml": ("strategies[0].scope.firm", "'us' is not allowed; allowed: all, focal, others"),
    "bad_scope_not_applicable.toml": ("shocks[0].scope.product", "scope 'product' does not apply to kind 'demand'; allowed scope keys: tier"),
    "bad_overlapping_shocks.toml": ("shocks[1]", "both change price_factor for the same scope between 2023-06-01 and 2023-12-31"),
    "bad_duplicate_names.toml": ("strategies[1].name", "two entries are called 'mentoring'"),
    "bad_empty_purchase_tax.toml": ("shocks[0]", "give at least one of exemption, cap, rate"),
    "bad_conflicting_budgets.toml": ("shocks[1].budget", "programme 'p' has two different budgets"),
    "bad_unknown_metric.toml": ("risk_rules[0].metric", "unknown metric 'stock_coef' (did you mean 'stock_coefficient'?)"),
    "bad_rule_without_threshold.toml": ("risk_rules[0]", "give exactly one of 'above' or 'below'"),
    "bad_metric_scope.toml": ("risk_rules[0]", "metric 'nev_share' has no scope 'focal'; allowed: market"),
    "bad_action_is_a_shock.toml": ("risk_rules[0].action.kind", "'demand' belongs under [[shocks]]"),
    "bad_negative_ramp.toml": ("strategies[0].ramp_days", "-5 is out of range; allowed: [0, 36500]"),
    "bad_missing_spec_file.toml": ("strategies[0].spec", "refers to 'no_such_strategy.toml', which does not exist"),
    "bad_journey_probability.toml": ("journey.research_dropout", "1.2 is out of range; allowed: [0.0, 1.0]"),
    "bad_code_is_not_run.toml": ("shocks[0].kind", "unknown kind '__import__('os').system('touch /tmp/pwned')'"),
    "bad_circular_a.toml": ("extends", "circular 'extends': bad_circular_a.toml -> bad_circular_b.toml -> bad_circular_a.toml"),
}


def test_every_malformed_file_is_covered() -> None:
    assert sorted(p.name for p in DATA.glob("bad_*.toml")) == sorted([*MALFORMED, "bad_circular_b.toml"])
    assert len(MALFORMED) >= 20


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_file_gives_its_own_clear_error(name: str) -> None:
    key, fragment = MALFORMED[name]
    with pytest.raises(ScenarioError) as caught:
        load_scenario(DATA / name)
    error = caught.value
    assert error.key == key
    assert fragment in str(error)
    assert Path(str(error.file)).name in (name, "bad_circular_b.toml") or str(error.file).endswith(name)


def test_malformed_files_give_different_messages() -> None:
    messages = set()
    for name in MALFORMED:
        with pytest.raises(ScenarioError) as caught:
            load_scenario(DATA / name)
        messages.add(caught.value.detail)
    assert len(messages) == len(MALFORMED)


def test_code_in_a_file_is_never_run(tmp_path: Path) -> None:
    marker = Path("/tmp/pwned")
    marker.unlink(missing_ok=True)
    with pytest.raises(ScenarioError):
        load_scenario(DATA / "bad_code_is_not_run.toml")
    assert not marker.exists()


def test_a_strategy_can_be_read_from_a_spec_file() -> None:
    scenario = load_scenario(DATA / "good_with_spec.toml")
    (strategy,) = scenario.strategies
    assert strategy.kind == "store_network" and strategy.ramp_days == 10
    assert strategy.params.stores[0].format == "community"


def test_validation_happens_before_simulation_for_build_time_checks() -> None:
    scenario = load_scenario().replace(**{"run.n_consumers": 2_000})
    too_much = Shock(Demand(change=0.9), start=date(2023, 3, 1))
    with pytest.raises(ScenarioError, match="MAX_DEMAND_MULTIPLIER"):
        MarketModel(scenario=dataclasses.replace(scenario, shocks=(too_much,)))


# --- the Python door --------------------------------------------------------------------------------


def test_python_objects_and_files_are_two_doors_to_one_scenario(tmp_path: Path) -> None:
    file = tmp_path / "war.toml"
    baseline = Path(__file__).parents[1] / "experiments" / "baseline_2023.toml"
    file.write_text(
        f'extends = "{baseline.as_posix()}"\nname = "war"\n\n'
        '[[shocks]]\nkind = "list_price"\nstart = 2023-03-01\nchange = -0.1\nscope = { powertrain = "NEV" }\n\n'
        '[[strategies]]\nkind = "mentoring"\nstart = 2023-04-01\nramp_days = 30\n\n'
        '[[risk_rules]]\nname = "reserve"\nmetric = "always"\n[risk_rules.action]\nkind = "risk_reserve"\ndays = 0\ncost_share_of_sales = 0.03\n'
    )
    from_file = load_scenario(file)
    by_hand = dataclasses.replace(
        load_scenario(),
        name="war",
        shocks=(Shock(ListPrice(change=-0.1), start=date(2023, 3, 1), scope=Scope(powertrain=("NEV",))),),
        strategies=(Strategy(Mentoring(), start=date(2023, 4, 1), ramp_days=30),),
        risk_rules=(
            RiskRule(
                name="reserve",
                metric="always",
                action=Action(RiskReserve(), days=0, costs=dataclasses.replace(Action(RiskReserve()).costs, cost_share_of_sales=0.03)),
            ),
        ),
    )
    assert from_file == by_hand
    a = MarketModel(scenario=from_file.replace(**{"run.n_consumers": 2_000, "run.days": 120, "run.warmup_days": 30}), seed=1)
    b = MarketModel(scenario=by_hand.replace(**{"run.n_consumers": 2_000, "run.days": 120, "run.warmup_days": 30}), seed=1)
    a.run_model()
    b.run_model()
    assert a.recorder.daily().equals(b.recorder.daily())


def test_python_objects_are_validated_when_a_model_is_built() -> None:
    bad = Shock(ListPrice(change=-0.1), start=date(2023, 3, 1), scope=Scope(product=("bev_cty",)))
    with pytest.raises(ScenarioError) as caught:
        MarketModel(scenario=dataclasses.replace(load_scenario(), shocks=(bad,)))
    assert caught.value.key == "shocks[0].scope.product" and "did you mean 'bev_city'?" in str(caught.value)


def test_dotted_overrides_reach_events_by_name() -> None:
    scenario = load_scenario(DATA / "good_with_spec.toml")
    changed = scenario.replace(**{"strategies.store_network.ramp_days": 20})
    assert changed.strategies[0].ramp_days == 20
    with pytest.raises(ScenarioError, match="did you mean 'ramp_days'"):
        scenario.replace(**{"strategies.store_network.ramp_dys": 20})


def test_a_resolved_scenario_written_as_toml_reads_back_the_same(tmp_path: Path) -> None:
    for name in ("strategy_plan_2024_2026.toml", "riskplan_inventory_under_stock_push.toml", "shock_trade_in_subsidy_budget.toml"):
        scenario = load_scenario(Path(__file__).parents[1] / "experiments" / name)
        out = tmp_path / name
        out.write_text(dumps(scenario.to_dict()))
        assert load_scenario(out) == scenario
