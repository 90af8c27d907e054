"""Replicate seeds from one root seed: `SeedSequence(root).spawn(n)`, the same for every arm.

Child i of the root SeedSequence is the same object however many children are spawned, so
adding replicates later (adaptive experiments, a larger re-run) keeps every earlier seed.
"""

from __future__ import annotations

import numpy as np


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
