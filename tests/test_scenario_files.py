"""The scenario files users start from: every one validates and runs, every shock family, strategy
and risk plan has one, and the command line validates, shows and compares them."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from simsales import MarketModel
from simsales.cli import main
from simsales.scenario import load_scenario
from simsales.scenario.events import SHOCK_KINDS, STRATEGY_KINDS

EXPERIMENTS = Path(__file__).parents[1] / "experiments"
FILES = sorted(p for p in EXPERIMENTS.glob("*.toml") if not p.name.startswith("exp_"))
TINY = {"run.n_consumers": 1_500, "run.warmup_days": 0}  # the file's own horizon, a tiny population


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_file_validates_and_runs(path: Path) -> None:
    """Load the file, build its model (tiny) and step it until 40 days after its last event starts
    (at least 120 days into the recorded window), so every event has acted."""
    scenario = load_scenario(path)
    model = MarketModel(scenario=scenario.replace(**TINY), seed=1)
    starts = [e.start for e in (*scenario.shocks, *scenario.strategies)]
    if scenario.risk_rules:
        starts.append(scenario.run.start_date + timedelta(days=31))  # a month end for the rules
    stop = max([s + timedelta(days=40) for s in starts] + [scenario.run.start_date + timedelta(days=120)])
    while model.running and model.date < stop:
        model.step()
    assert model.recorder.total("deliveries") > 0
    events = model.timeline.events()
    expected = {s.label for s in (*scenario.shocks, *scenario.strategies)}
    assert expected <= set(events["label"])
    touched = {lever for a in model.timeline.active for e in a.effects for lever in [e.lever]}
    for event in (*scenario.shocks, *scenario.strategies):
        levers = set(type(event.params).LEVERS)
        assert not levers or levers & {t.removeprefix("policy.") for t in touched}
    if scenario.risk_rules:
        log = model.timeline.rule_log()
        assert set(log["rule"]) == {r.name for r in scenario.risk_rules}


def test_every_kind_and_family_has_a_ready_file() -> None:
    scenarios = {p.stem: load_scenario(p) for p in FILES}
    shock_kinds = {s.kind for sc in scenarios.values() for s in sc.shocks}
    strategy_kinds = {s.kind for sc in scenarios.values() for s in sc.strategies}
    assert set(SHOCK_KINDS) <= shock_kinds
    helpers = {"retention_bonus", "risk_reserve"}  # risk-plan actions, used in agents/risk_rules_*.toml
    assert set(STRATEGY_KINDS) - helpers <= strategy_kinds
    actions = {r.action.kind for sc in scenarios.values() for r in sc.risk_rules}
    assert helpers <= actions
    for kind in set(STRATEGY_KINDS) - helpers - {"business_continuity"}:
        assert f"strategy_{kind}" in scenarios, f"no experiments/strategy_{kind}.toml"
    named = [
        "shock_purchase_tax_phaseout", "shock_trade_in_subsidy", "shock_price_war_nev", "shock_demand_drop",
        "shock_talent_exodus", "shock_data_platform_outage", "riskplan_inventory", "riskplan_talent", "riskplan_market",
        "riskplan_operations_under_outage", "strategy_plan_2024_2026",
    ]  # fmt: skip
    assert set(named) <= set(scenarios)


def test_named_shocks_say_what_the_brief_says() -> None:
    tax = load_scenario(EXPERIMENTS / "shock_purchase_tax_phaseout.toml")
    levels = {s.start.year: s.params.exemption for s in tax.shocks}
    assert levels[2026] == 0.5 and levels[2028] == 0.0
    trade_in = load_scenario(EXPERIMENTS / "shock_trade_in_subsidy.toml")
    amounts = [(s.params.nev, s.params.ice) for s in trade_in.shocks]
    assert amounts == [(10000, 7000), (20000, 15000)] and trade_in.shocks[1].start.month in (7, 8)
    war = load_scenario(EXPERIMENTS / "shock_price_war_nev.toml").shocks[0]
    assert war.params.change == -0.10 and war.scope.powertrain == ("NEV",)
    assert load_scenario(EXPERIMENTS / "shock_demand_drop.toml").shocks[0].params.change == -0.15
    outage = load_scenario(EXPERIMENTS / "shock_data_platform_outage.toml").shocks[0]
    assert (outage.end - outage.start).days + 1 == 14
    plan = load_scenario(EXPERIMENTS / "strategy_plan_2024_2026.toml")
    starts = {s.start.isoformat() for s in plan.strategies}
    assert starts == {"2024-01-01", "2024-07-01", "2025-07-01"}
    assert plan.run.days >= 4 * 365  # to the end of 2026


def test_validate_command(capsys: pytest.CaptureFixture[str]) -> None:
    good = [str(EXPERIMENTS / "shock_demand_drop.toml"), str(EXPERIMENTS / "riskplan_market.toml")]
    assert main(["validate", *good]) == 0
    assert capsys.readouterr().out.count("ok: ") == 2
    bad = Path(__file__).parent / "data" / "scenarios" / "bad_unknown_product.toml"
    assert main(["validate", good[0], str(bad)]) == 2
    captured = capsys.readouterr()
    assert "bad_unknown_product.toml: shocks[0].scope.product: unknown product 'bev_cty'" in captured.err


def test_show_command_prints_the_resolved_scenario(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["show", str(EXPERIMENTS / "riskplan_inventory_under_stock_push.toml")]) == 0
    text = capsys.readouterr().out
    assert "[[risk_rules]]" in text and "[[shocks]]" in text and 'kind = "stock_push"' in text
    out = tmp_path / "shown.toml"
    out.write_text(text)
    assert load_scenario(out) == load_scenario(EXPERIMENTS / "riskplan_inventory_under_stock_push.toml")


def test_run_command_prints_kpis_and_the_difference_from_the_baseline(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    short = tmp_path / "short_demand_drop.toml"  # the shipped file with a 60-day warm-up instead of 545: 40% of the days
    short.write_text('extends = "shipped:shock_demand_drop"\n[run]\nwarmup_days = 60\n')
    args = ["run", str(short), "--consumers", "3000", "--days", "240", "--seed", "4", "--replicates", "2", "--workers", "1"]
    assert main(args) == 0
    out = capsys.readouterr().out
    kpi_table, diff = out.split("Differences from shock_demand_drop without its events: 2 paired replicates")
    assert "simulated" in kpi_table and "market.total_sales" in kpi_table
    header, *rows = diff.strip().splitlines()[1:]
    assert header.split()[:4] == ["KPI", "unit", "baseline", "scenario"]
    sales = next(r for r in rows if r.startswith("market.total_sales "))
    parts = sales.split()
    base, scenario, change = float(parts[3]), float(parts[4]), float(parts[5])
    assert parts[1:3] == ["million", "units"]
    assert change == pytest.approx(scenario - base, abs=0.01)  # printed to 4 digits
    assert "By year, mean over replicates (baseline -> scenario):" in diff and "Timeline:" in diff and "2023-07-01" in diff


def test_the_odd_lists_every_lever_kind_and_metric() -> None:
    from simsales.levers import LEVERS, POLICY_LEVERS
    from simsales.scenario.events import METRICS

    text = (Path(__file__).parents[1] / "docs" / "ODD.md").read_text()
    section = text.split("## Shocks, strategies and risk plans", 1)[1].split("\n## ", 1)[0]
    names = [*LEVERS, *(f"policy.{p}" for p in POLICY_LEVERS), *SHOCK_KINDS, *STRATEGY_KINDS, *METRICS]
    missing = [n for n in names if f"`{n}`" not in section]
    assert not missing


def test_the_readme_example_validates(tmp_path: Path) -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    section = readme.split("## Scenario files: shocks, strategies and risk plans", 1)[1]
    example = section.split("```toml\n", 1)[1].split("```", 1)[0]
    file = tmp_path / "example.toml"
    file.write_text(example)  # as written: `extends = "shipped:baseline_2023"` works from any folder
    scenario = load_scenario(file)
    assert [s.kind for s in scenario.shocks] == ["list_price"] and scenario.risk_rules[0].action.kind == "clearance"
