"""Snapshots: a model saved mid-run and restored continues exactly as if never stopped."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simsales import MarketModel
from simsales.scenario import load_scenario
from simsales.snapshots import SnapshotError, read_header


def _finish(model: MarketModel) -> MarketModel:
    while model.running:
        model.step()
    return model


@pytest.mark.parametrize("stop_day", [0, 80, 130])
def test_a_restored_model_continues_bit_identically(tmp_path: Path, stop_day: int) -> None:
    """Before, at and after a price-war shock: the restored run equals the uninterrupted one."""
    spec = load_scenario("experiments/shock_price_war_nev.toml", overrides={"run.start_date": date(2024, 1, 1), "run.warmup_days": 60, "run.days": 90})
    war_day = (spec.shocks[0].start - spec.run.start_date).days + spec.run.warmup_days
    assert 80 < war_day < 130  # the shock is inside the run, between the second and third stop
    whole = _finish(MarketModel(scenario=spec, n_consumers=4_000, seed=11))
    model = MarketModel(scenario=spec, n_consumers=4_000, seed=11)
    for _ in range(stop_day):
        model.step()
    path = model.snapshot(tmp_path / "warm.simsnap")
    assert read_header(path)["day"] == stop_day
    restored = _finish(MarketModel.restore(path))
    pd.testing.assert_frame_equal(restored.recorder.daily(), whole.recorder.daily())
    pd.testing.assert_frame_equal(restored.datacollector.get_model_vars_dataframe(), whole.datacollector.get_model_vars_dataframe())
    assert restored.kpis() == pytest.approx(whole.kpis(), nan_ok=True)
    np.testing.assert_array_equal(restored.population.state, whole.population.state)
    # Mesa ids continue: agents made after the restore do not reuse an id
    ids = [a.unique_id for a in restored.agents]
    assert len(ids) == len(set(ids))


def test_one_snapshot_starts_many_continuations(tmp_path: Path) -> None:
    """Restoring twice gives two independent models: stepping one does not move the other."""
    model = MarketModel(n_consumers=2_000, seed=2, warmup_days=30, days=20)
    for _ in range(30):
        model.step()
    path = model.snapshot(tmp_path / "s.simsnap")
    a, b = MarketModel.restore(path), MarketModel.restore(path)
    a.step()
    assert a.day == 31 and b.day == 30
    assert _finish(a).recorder.total("deliveries") == _finish(b).recorder.total("deliveries")


def test_other_files_are_refused_with_the_reason(tmp_path: Path) -> None:
    junk = tmp_path / "junk.simsnap"
    junk.write_bytes(b"not a snapshot")
    with pytest.raises(SnapshotError, match="not a simsales snapshot"):
        MarketModel.restore(junk)
    model = MarketModel(n_consumers=1_000, seed=1, warmup_days=5, days=5)
    path = model.snapshot(tmp_path / "s.simsnap")
    data = path.read_bytes().replace(b'"simsales": "', b'"simsales": "0.0.0-', 1)
    old = tmp_path / "old.simsnap"
    old.write_bytes(data)
    with pytest.raises(SnapshotError, match="re-run the warm-up"):
        MarketModel.restore(old)
