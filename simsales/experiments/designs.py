"""Experimental designs that produce arms: full factorials over named factors, LHS and Sobol samples.

A factor maps level names to a level: a table of dotted overrides (and/or inline `shocks`,
`strategies`, `risk_rules` lists), optionally with a `scenario` key naming a scenario file or a
list of files.  A factorial arm takes one level of every factor; its
overrides are merged in factor order and its scenario files are layered in factor order.
Sampled designs (scipy.stats.qmc) give one arm per point, labelled by its parameter values.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import qmc

from simsales.experiments.spec import Arm, ScenarioRef
from simsales.runs.seeds import quasi_random
from simsales.scenario import ScenarioError

Level = Mapping[str, Any]


def full_factorial(
    factors: Mapping[str, Mapping[str, Level]],
    scenario: ScenarioRef = None,
    where: str | None = None,
) -> list[Arm]:
    """Every combination of factor levels as an arm named 'factor=level,factor=level' (first levels first).

    `scenario` is the default scenario of arms whose levels name no file.
    """
    if not factors:
        raise ScenarioError("a factorial design needs at least one factor", file=where, key="factors")
    names = list(factors)
    for name in names:
        if not factors[name]:
            raise ScenarioError("a factor needs at least one level", file=where, key=f"factors.{name}")
    arms = []
    for combo in itertools.product(*(list(factors[n].items()) for n in names)):
        params: dict[str, Any] = {}
        files: list[str | Path] = []
        labels: dict[str, Any] = {}
        for name, (level, spec) in zip(names, combo, strict=True):
            labels[name] = level
            spec = dict(spec or {})
            file = spec.pop("scenario", None)
            if isinstance(file, (list, tuple)):
                files.extend(file)
            elif file is not None:
                files.append(file)
            params.update(spec)
        ref: Any = scenario
        if len(files) == 1:
            ref = files[0]
        elif files:
            ref = tuple(files)
        name = ",".join(f"{n}={labels[n]}" for n in names)
        arms.append(Arm(name=name, scenario=ref, params=params, factors=labels))
    return arms


def _sampled_arms(kind: str, ranges: Mapping[str, tuple[float, float]], n: int, seed: int, scenario: ScenarioRef, prefix: str) -> list[Arm]:
    names = list(ranges)
    if not names:
        raise ScenarioError("a sampled design needs at least one parameter range", key="parameters")
    for key in names:
        lo, hi = ranges[key]
        if not float(lo) < float(hi):
            raise ScenarioError(f"range [{lo}, {hi}] must have low < high", key=f"parameters.{key}")
    unit = quasi_random(kind, len(names), int(n), np.random.default_rng(seed))
    points = qmc.scale(unit, [float(ranges[k][0]) for k in names], [float(ranges[k][1]) for k in names])
    arms = []
    for i, row in enumerate(points):
        params = {k: float(v) for k, v in zip(names, row, strict=True)}
        arms.append(Arm(name=f"{prefix}{i:04d}", scenario=scenario, params=params, factors=dict(params)))
    return arms


def latin_hypercube(ranges: Mapping[str, tuple[float, float]], n: int, seed: int = 0, scenario: ScenarioRef = None) -> list[Arm]:
    """n arms at Latin-hypercube points over dotted-parameter ranges {path: (low, high)}."""
    return _sampled_arms("lhs", ranges, n, seed, scenario, "lhs")


def sobol_points(ranges: Mapping[str, tuple[float, float]], n: int, seed: int = 0, scenario: ScenarioRef = None) -> list[Arm]:
    """n arms at scrambled Sobol points over dotted-parameter ranges (n a power of 2 keeps balance)."""
    return _sampled_arms("sobol", ranges, n, seed, scenario, "qmc")
