"""`simsales responses`: verdicts, the expectation file's coverage, input checks and the written report."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pandas as pd
import pytest

from simsales import response_report as rr
from simsales._paths import default_file
from simsales.cli import main

#: The seed's statistics table, beside the repository as ../shared (absent outside the project).
STATISTICS = Path(__file__).resolve().parents[1].parent / "shared" / "seed" / "statistics.csv"


def call(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    captured = capsys.readouterr()
    return code, captured.out + captured.err


# --- verdicts on constructed numbers --------------------------------------------------------


@pytest.mark.parametrize(
    ("sign", "lo", "hi", "verdict"),
    [
        ("+", 0.1, 0.5, rr.AS_EXPECTED),
        ("-", -0.5, -0.1, rr.AS_EXPECTED),
        ("+", -0.5, -0.1, rr.WRONG_SIGN),
        ("-", 0.1, 0.5, rr.WRONG_SIGN),
        ("+", -0.1, 0.5, rr.NOT_SIGNIFICANT),
        ("-", -0.5, 0.0, rr.NOT_SIGNIFICANT),  # touching 0 does not exclude it
        ("+", math.nan, math.nan, rr.NOT_SIGNIFICANT),
    ],
)
def test_sign_verdict(sign: str, lo: float, hi: float, verdict: str) -> None:
    assert rr.sign_verdict(sign, lo, hi) == verdict


@pytest.mark.parametrize(
    ("direction", "target", "lo", "hi", "verdict"),
    [
        ("at_least", 35.0, 36.0, 40.0, rr.REACHED),
        ("at_least", 35.0, 34.0, 40.0, rr.NOT_REACHED),  # the whole interval must clear the target
        ("at_most", 1.2, 0.9, 1.1, rr.REACHED),
        ("at_most", 1.2, 1.0, 1.3, rr.NOT_REACHED),
        ("at_most", 1.2, math.nan, math.nan, rr.NOT_REACHED),
    ],
)
def test_target_verdict(direction: str, target: float, lo: float, hi: float, verdict: str) -> None:
    assert rr.target_verdict(direction, target, lo, hi) == verdict


def test_claim_targets_and_tables_from_constructed_effects() -> None:
    assert rr.claim_target({"value": 42, "from": 68}) == pytest.approx(42 / 68 - 1)
    assert rr.claim_target({"value": 0.5, "factor": -1}) == -0.5
    assert rr.claim_target({"value": 35, "target": 15}) == 15
    expect = rr.Expectations(
        baselines={"strategy_x": "event_free"},
        kpis=(rr.Expectation("strategy_x", "journey.lead_conversion", "+", "why"),
              rr.Expectation("strategy_x", "inventory.turnover_days", "-", "why")),
        claims=(rr.Claim("c.level", 35, "%", "strategy_x", "journey.lead_conversion", "level", "at_least", 35.0),
                rr.Claim("c.rel", 42, "days", "strategy_x", "inventory.turnover_days", "relative_change", "at_most", 42 / 68 - 1),
                rr.Claim("c.none", 3, "x", "strategy_x", not_modelled="no output")),
    )  # fmt: skip
    effects = pd.DataFrame(
        [
            {"file": "strategy_x", "kpi": "journey.lead_conversion", "baseline_mean": 30.0, "file_mean": 36.0,
             "file_ci_low": 35.5, "file_ci_high": 36.5, "diff": 6.0, "ci_low": 5.0, "ci_high": 7.0},
            {"file": "strategy_x", "kpi": "inventory.turnover_days", "baseline_mean": 100.0, "file_mean": 105.0,
             "file_ci_low": 100.0, "file_ci_high": 110.0, "diff": 5.0, "ci_low": 1.0, "ci_high": 9.0},
        ]
    )  # fmt: skip
    responses = rr.response_table(expect, effects)
    assert responses["verdict"].tolist() == [rr.AS_EXPECTED, rr.WRONG_SIGN]
    claims = rr.claim_table(expect, effects).set_index("id")
    assert claims.loc["c.level", "verdict"] == rr.REACHED
    assert claims.loc["c.rel", "verdict"] == rr.NOT_REACHED
    assert claims.loc["c.rel", "value"] == pytest.approx(0.05)
    assert claims.loc["c.none", "verdict"] == rr.NOT_MODELLED


# --- the expectation file covers everything it must -----------------------------------------


def test_every_shipped_shock_strategy_and_risk_plan_has_expectations() -> None:
    expect = rr.load_expectations()
    shipped = rr.shipped_files()
    assert len(shipped) > 30
    assert sorted(set(shipped) - set(expect.files)) == []
    assert sorted(set(expect.files) - set(shipped)) == []  # no stale entries
    assert {e.file for e in expect.kpis} == set(shipped)


@pytest.mark.skipif(not STATISTICS.is_file(), reason="the seed's statistics.csv (../shared) is not beside this checkout")
def test_every_plan_claim_and_target_is_mapped_with_its_seed_figure() -> None:
    with STATISTICS.open(newline="", encoding="utf-8") as fh:
        table = list(csv.DictReader(fh))
    rows = {r["id"]: r for r in table if r["kind"] in ("plan_claim", "plan_target")}
    assert len(rows) > 20
    expect = rr.load_expectations()
    unknown = [e.seed_id for e in expect.kpis if e.seed_id and e.seed_id not in {r["id"] for r in table}]
    assert unknown == []  # every seed figure named by an expectation exists
    claims = {c.id: c for c in expect.claims}
    assert sorted(set(rows) - set(claims)) == []
    assert sorted(set(claims) - set(rows)) == []
    for cid, claim in claims.items():
        assert str(claim.value) == rows[cid]["value"].removesuffix(".0") or float(claim.value) == float(rows[cid]["value"]), cid
        assert claim.unit == rows[cid]["unit"], cid


def test_a_bad_expectation_entry_is_refused_naming_its_key(tmp_path: Path) -> None:
    from simsales.scenario import ScenarioError

    bad = tmp_path / "bad.toml"
    bad.write_text('[files.shock_x]\nkpis = [{ kpi = "market.nev_share", sign = "up", reason = "r" }]\n')
    with pytest.raises(ScenarioError, match=r"files\.shock_x\.kpis\[0\]\.sign"):
        rr.load_expectations(bad)


def test_a_file_can_ask_for_a_larger_size_and_its_baseline_gets_it_too(tmp_path: Path) -> None:
    """The shipped outage and its risk plan run at 100,000 consumers whatever the report's size
    (a larger --consumers wins); a bad size is refused naming its key."""
    from simsales.scenario import ScenarioError

    expect = rr.load_expectations()
    assert rr.file_size(expect, "shock_data_platform_outage", {"run.n_consumers": 10_000})["run.n_consumers"] == 100_000
    assert rr.file_size(expect, "shock_data_platform_outage", {"run.n_consumers": 200_000})["run.n_consumers"] == 200_000
    assert rr.file_size(expect, "shock_demand_drop", {"run.n_consumers": 10_000})["run.n_consumers"] == 10_000
    (group,) = rr.plan_groups(expect, ["shock_data_platform_outage", "riskplan_operations_under_outage"], {"run.n_consumers": 10_000})
    assert {spec.run.n_consumers for spec in group.arms.values()} == {100_000}  # the file, its baseline and the event-free twin
    bad = tmp_path / "bad.toml"
    bad.write_text('[files.shock_x]\nconsumers = 50.5\nkpis = [{ kpi = "market.nev_share", sign = "+", reason = "r" }]\n')
    with pytest.raises(ScenarioError, match=r"files\.shock_x\.consumers"):
        rr.load_expectations(bad)


# --- the command ----------------------------------------------------------------------------


def test_bad_flags_are_refused_before_any_run(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a simulation started before the bad input was refused")

    monkeypatch.setattr(rr, "measure", refuse)
    existing = tmp_path / "existing.txt"
    existing.write_text("keep me")
    cases = [
        (["responses", "--replicates", "0"], "--replicates"),
        (["responses", "--jobs", "0"], "--jobs"),
        (["responses", "--consumers", "-5"], "--consumers"),
        (["responses", "--out", str(existing)], "--out"),
        (["responses", "--out", str(default_file("calibration"))], "--update-shipped"),
        (["responses", "--update-shipped", "--out", str(tmp_path / "x")], "--update-shipped"),
        (["responses", "--update-shipped", "--no-elasticities"], "--no-elasticities"),
        (["responses", "--files", "shock_nonexistent", "--out", str(tmp_path / "y")], "--files"),
        (["responses", "--expectations", str(tmp_path / "missing.toml"), "--out", str(tmp_path / "z")], "--expectations"),
    ]
    for argv, named in cases:
        code, text = call(argv, capsys)
        assert code != 0, argv
        assert "Traceback" not in text, (argv, text)
        assert named in text, (argv, text)
    assert existing.read_text() == "keep me"
    assert not (tmp_path / "y").exists() and not (tmp_path / "z").exists()


def test_the_command_writes_the_report_with_its_sections_and_verdicts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report"
    argv = ["responses", "--consumers", "400", "--replicates", "2", "--jobs", "1", "--quiet", "--no-elasticities",
            "--files", "shock_demand_drop,riskplan_market_under_demand_drop", "--out", str(out)]  # fmt: skip
    code, text = call(argv, capsys)
    assert code == 0, text
    report = (out / "responses.md").read_text()
    for heading in ("## (a) Elasticities", "## (b) Responses", "## (c) Plan claims"):
        assert heading in report
    assert "| verdict |" in report
    assert "| shock_demand_drop | market.total_sales | - |" in report
    assert "| riskplan_market_under_demand_drop | inventory.stock_coefficient | - |" in report
    assert "strategy_plan_2024_2026" not in report  # only the files asked for
    assert "400 consumers, 2 paired replicates" in report
    assert (out / "figures" / "responses_effects.png").stat().st_size > 0


def test_elasticities_are_compared_with_the_published_ranges() -> None:
    from simsales.responses import against_literature

    table = pd.DataFrame(
        {"arm": ["all", "NEV", "bev_premium", "ice_small"], "kind": ["market", "segment", "product", "product"],
         "response": ["all", "NEV", "bev_premium", "ice_small"], "elasticity": [-0.82, -1.3, -2.9, -1.1]}
    )  # fmt: skip
    out = against_literature(table)
    assert list(out["within"]) == ["yes", "", "yes", "no"]
    assert out.loc[0, "literature"] == "-1.5 .. -0.8" and out.loc[1, "literature"] == ""
