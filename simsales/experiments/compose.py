"""Layering several scenario files into one scenario (e.g. a shock file and a risk-plan file)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from simsales.scenario import Scenario, load_scenario


def compose_files(files: Sequence[str | Path]) -> Scenario:
    """Placeholder until scenario composition lands: only a single file is supported."""
    if len(files) == 1:
        return load_scenario(files[0])
    raise NotImplementedError("layering several scenario files")
