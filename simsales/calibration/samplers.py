"""Samplers: where to evaluate next.  One interface, interchangeable implementations.

A sampler proposes a batch of points in the unit cube from the history of evaluated candidates.
Samplers hold no mutable state: the same history, offset and random generator give the same
proposals, so an interrupted calibration replays its proposals exactly and skips what is stored.

- `SobolSampler`, `LatinHypercubeSampler`: quasi-random exploration of the whole box.
- `SurrogateSampler`: trust-region refinement on a local linear model of every target's residual
  (a Gauss-Newton step fitted by weighted least squares to the candidates near the incumbent).
- `LocalGaussianSampler`: random perturbations of the incumbent within the same trust region.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import minimize

from simsales.calibration.objective import Objective
from simsales.runs.seeds import quasi_random


@dataclass
class History:
    """Evaluated candidates: unit points, objective, seed-mean residuals per target, batch and stage."""

    x: np.ndarray
    loss: np.ndarray
    z: np.ndarray
    batch: np.ndarray
    stage: list[str]
    objective: Objective
    penalty: Callable[[np.ndarray], float] = field(default=lambda x: 0.0)

    @property
    def dim(self) -> int:
        """Dimension of the unit points."""
        return self.x.shape[1]

    def best(self) -> int:
        """Index of the lowest objective."""
        return int(np.nanargmin(self.loss))


class Sampler(ABC):
    """Proposes `n` unit points given the history; deterministic in (history, rng state, offset)."""

    name: str = "sampler"

    @abstractmethod
    def propose(self, n: int, history: History, *, rng: np.random.Generator, offset: int, size: int) -> np.ndarray:
        """n x dim points in [0, 1]; `offset` = points this stage already proposed, `size` = stage size."""


@dataclass
class SobolSampler(Sampler):
    """Scrambled Sobol sequence: low-discrepancy exploration, continued across batches.

    Quasi-random samplers are scrambled by their own `seed` (the calibration seed), not by the
    per-batch `rng`: one sequence must continue across batches.
    """

    seed: int = 0
    name: str = "sobol"

    def propose(self, n: int, history: History, *, rng: np.random.Generator, offset: int, size: int) -> np.ndarray:
        """The next n points of the sequence."""
        return quasi_random("sobol", history.dim, n, self.seed, offset)


@dataclass
class LatinHypercubeSampler(Sampler):
    """Latin hypercube over the whole stage (drawn at once, handed out in batches; scrambled by `seed`, like Sobol)."""

    seed: int = 0
    name: str = "lhs"

    def propose(self, n: int, history: History, *, rng: np.random.Generator, offset: int, size: int) -> np.ndarray:
        """Rows offset..offset+n of one Latin hypercube of the stage's size."""
        return quasi_random("lhs", history.dim, n, self.seed, offset, total=size)


@dataclass
class TrustRegion:
    """Trust radius (unit-cube units) replayed from the history: grow after an improving batch, else shrink."""

    initial: float = 0.15
    minimum: float = 0.02
    maximum: float = 0.5
    expand: float = 1.5
    shrink: float = 0.6

    def radius(self, history: History, stage: str) -> float:
        """Radius after all batches of `stage` in the history."""
        r, best = self.initial, np.inf
        for b in np.unique(history.batch):
            mask = history.batch == b
            batch_best = float(np.nanmin(history.loss[mask]))
            if history.stage[int(np.flatnonzero(mask)[0])] == stage:
                r = min(r * self.expand, self.maximum) if batch_best < best else max(r * self.shrink, self.minimum)
            best = min(best, batch_best)
        return r


def local_linear_model(history: History, centre: np.ndarray, bandwidth: float, ridge: float = 1e-3) -> tuple[np.ndarray, np.ndarray]:
    """Kernel-weighted linear fit of every target's residual around `centre`: (z at centre, dz/dx matrix T x d)."""
    d = history.x - centre
    w = np.exp(-np.square(d).sum(axis=1) / (2 * bandwidth**2))
    w = np.maximum(w, 1e-3 * w.max())
    design = np.hstack([np.ones((len(d), 1)), d])
    n_targets = history.z.shape[1]
    intercept = np.full(n_targets, np.nan)
    slopes = np.zeros((n_targets, history.dim))
    penalty = np.eye(design.shape[1]) * ridge
    penalty[0, 0] = 0.0
    for t in range(n_targets):
        ok = np.isfinite(history.z[:, t])
        if ok.sum() < 2:
            continue
        a, y, wt = design[ok], history.z[ok, t], w[ok]
        gram = a.T @ (a * wt[:, None]) + penalty * wt.sum()
        coef = np.linalg.lstsq(gram, a.T @ (wt * y), rcond=None)[0]
        intercept[t], slopes[t] = coef[0], coef[1:]
    return intercept, slopes


@dataclass
class SurrogateSampler(Sampler):
    """Trust-region steps on a local linear surrogate of the residuals (Gauss-Newton with a noisy Jacobian)."""

    trust: TrustRegion = field(default_factory=TrustRegion)
    spread: float = 0.35
    name: str = "surrogate"

    def propose(self, n: int, history: History, *, rng: np.random.Generator, offset: int, size: int) -> np.ndarray:
        """The surrogate's minimiser in the trust region, then points scattered around it."""
        r = self.trust.radius(history, self.name)
        centre = history.x[history.best()]
        z0, jac = local_linear_model(history, centre, bandwidth=max(2 * r, 0.1))
        lo, hi = np.maximum(centre - r, 0.0), np.minimum(centre + r, 1.0)

        def predicted(x: np.ndarray) -> float:
            return float(history.objective.from_residuals(z0 + jac @ (x - centre))) + history.penalty(x)

        starts = [centre, *(lo + (hi - lo) * rng.random((3, len(centre))))]
        best_x, best_f = centre, predicted(centre)
        for start in starts:
            res = minimize(predicted, start, method="L-BFGS-B", bounds=list(zip(lo, hi, strict=True)))
            if res.fun < best_f - 1e-12:
                best_x, best_f = np.asarray(res.x), float(res.fun)
        points = [best_x]
        while len(points) < n:
            points.append(np.clip(best_x + rng.normal(0.0, self.spread * r, len(centre)), 0.0, 1.0))
        return np.array(points[:n])


@dataclass
class LocalGaussianSampler(Sampler):
    """Gaussian perturbations of the incumbent, scaled by the trust radius (an evolution strategy)."""

    trust: TrustRegion = field(default_factory=TrustRegion)
    name: str = "local"

    def propose(self, n: int, history: History, *, rng: np.random.Generator, offset: int, size: int) -> np.ndarray:
        """n perturbations of the best point."""
        r = self.trust.radius(history, self.name)
        centre = history.x[history.best()]
        return np.clip(centre + rng.normal(0.0, r / 2, (n, len(centre))), 0.0, 1.0)


SAMPLERS: dict[str, type[Sampler]] = {
    "sobol": SobolSampler,
    "lhs": LatinHypercubeSampler,
    "surrogate": SurrogateSampler,
    "local": LocalGaussianSampler,
}
