"""The dashboard in a real browser: serve it, run a small scenario through the page, read the numbers shown.

Needs Playwright (the `test` extra) and a system Chromium at /usr/bin/chromium (`.ci/run`
installs the Debian package).  In CI (CI=true) a missing browser is a failure, elsewhere a skip.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest

from simsales._paths import default_file
from simsales.dashboard.compute import BASELINE
from simsales.experiments import replicate_seeds
from simsales.model import MarketModel
from simsales.run import RunResult

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
SIZE = {"n_consumers": 3_000, "days": 200, "warmup_days": 60}
SHOCK = "shock_demand_drop"
ROOT = 11


def _require(condition: bool, reason: str) -> None:
    if not condition:
        if IN_CI:
            pytest.fail(f"CI=true but {reason}: the browser test must run in CI (.ci/run installs chromium)")
        pytest.skip(reason)


def _library_runs(scenario: str) -> list[RunResult]:
    """The scenario run by the library itself, once per replicate seed of the dashboard's experiment."""
    out = []
    for seed in replicate_seeds(ROOT, 2):
        model = MarketModel(scenario=default_file(f"experiments/{scenario}.toml"), seed=seed, **SIZE)
        model.run_model()
        out.append(RunResult.from_model(model))
    return out


def _number(text: str) -> float:
    return float(re.search(r"-?[\d,]+\.?\d*", text).group(0).replace(",", ""))  # type: ignore[union-attr]


@pytest.mark.timeout(180)
def test_dashboard_runs_a_scenario_in_chromium_and_shows_library_numbers(tmp_path: Path) -> None:
    try:
        import solara  # noqa: F401
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        _require(False, f"{exc.name} is not installed (pip install -e '.[test,viz]')")
    from simsales.dashboard.browser import CHROMIUM, fill_and_run, launch, serve, shown_values, upload

    _require(Path(CHROMIUM).exists(), f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with serve(log=tmp_path / "server.log", timeout=60) as url, sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 2400})
            page.goto(url, timeout=90_000)
            page.get_by_label("Root seed", exact=True).wait_for(timeout=90_000)
            bad = tmp_path / "bad.toml"
            bad.write_text('extends = "shipped:baseline_2023"\nname = "bad"\n[run]\ndayz = 30\n')
            refused = upload(page, bad)
            fill_and_run(page, url, kind="shock", scenario=SHOCK, replicates=2, root_seed=ROOT, timeout=90, **SIZE)
            cards = shown_values(page, "kpi")
            diffs = shown_values(page, "effect")
            seeds = page.locator("[data-seeds]").inner_text()
            page.screenshot(path=str(tmp_path / "dashboard.png"))
        finally:
            browser.close()

    # a bad upload is refused with the file and the key named, before anything runs
    assert refused.startswith("Not loaded") and "bad.toml" in refused and "run.dayz" in refused
    assert seeds == ", ".join(str(s) for s in replicate_seeds(ROOT, 2))
    runs = {arm: _library_runs(arm) for arm in (BASELINE, SHOCK)}
    # the total-sales card shows the mean of the library's runs with the same seeds and size, and the 2023 target
    expected = float(np.mean([r.kpi("market.total_sales") for r in runs[SHOCK]]))
    text, value = cards["market.total_sales"]
    assert value == pytest.approx(expected, rel=1e-12)
    assert _number(text.split("\n")[1]) == pytest.approx(expected, abs=0.051)  # shown to 1 decimal
    target = runs[SHOCK][0].kpis.set_index("id").at["market.total_sales", "target"]
    assert "million units" in text and f"2023: {target:.1f} million units" in text
    # the satisfaction effect is the mean paired difference of the same seeds
    diff = float(
        np.mean(
            [
                a.kpi("consumer.satisfaction") - b.kpi("consumer.satisfaction")
                for a, b in zip(runs[SHOCK], runs[BASELINE], strict=True)
            ]
        )
    )
    text, value = diffs["consumer.satisfaction"]
    assert value == pytest.approx(diff, abs=1e-9)
    assert _number(text) == pytest.approx(diff, abs=0.0051)
