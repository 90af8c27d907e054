"""Seeds of many runs: `SeedSequence` children, side generators, and seeded quasi-random points.

Child i of `SeedSequence(root)` is the same whatever the number of children spawned, so adding
replicates later (adaptive experiments, a larger re-run) keeps every earlier seed.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.stats import qmc


def replicate_seeds(root_seed: int, n: int) -> list[int]:
    """Integer seeds for replicates 0..n-1: SeedSequence(root).spawn(n), each turned into a 63-bit int."""
    children = np.random.SeedSequence(int(root_seed)).spawn(int(n))
    return [seed_of(child) for child in children]


def seed_of(sequence: np.random.SeedSequence) -> int:
    """A non-negative 63-bit integer seed drawn from a SeedSequence (what `simsales.run(seed=)` takes)."""
    return int(sequence.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def auxiliary_rng(root_seed: int, replicate: int, stream: int) -> np.random.Generator:
    """A generator for replicate `replicate`'s side draws (e.g. its ensemble member), independent of its run seed.

    It comes from the replicate's child sequence (spawn key (replicate, stream)): never used by the
    model itself, stable when replicates are added, and the same for every arm.
    """
    return np.random.default_rng(np.random.SeedSequence(int(root_seed), spawn_key=(int(replicate), int(stream))))


def quasi_random(kind: str, dim: int, n: int, seed: int | np.random.Generator, offset: int = 0, total: int = 0) -> np.ndarray:
    """Rows offset..offset+n of a seeded quasi-random design in the unit cube.

    kind "sobol": a scrambled Sobol sequence (continued across calls by `offset`); kind "lhs": one
    Latin hypercube of max(total, offset + n) points (one design for a whole stage, handed out in slices).
    `seed` scrambles the design: a Generator (experiment designs pass `default_rng(seed)`) or an
    int, which scipy seeds its own way (calibration samplers; their published fits used it).
    """
    if kind not in ("sobol", "lhs"):
        raise ValueError(f"unknown quasi-random design {kind!r}; allowed: sobol, lhs")
    engine = _engine(qmc.Sobol if kind == "sobol" else qmc.LatinHypercube, dim, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Sobol's balance warning when n is not a power of two
        if kind == "lhs":
            return engine.random(max(total, offset + n))[offset : offset + n]
        if offset:
            engine.fast_forward(offset)
        return engine.random(n)


def _engine(cls: type, dim: int, seed: int | np.random.Generator) -> qmc.QMCEngine:
    if not isinstance(seed, np.random.Generator):
        return cls(dim, seed=int(seed))
    try:
        return cls(dim, rng=seed)
    except TypeError:  # scipy < 1.15
        return cls(dim, seed=seed)
