"""The calibration objective: a weighted distance between simulated KPIs and targets (SMM).

Residuals are standardised by each target's tolerance, z = (simulated - target) / (tol x |target|),
so |z| <= 1 means "within tolerance".  The objective is the weighted mean of loss(z) over targets,
where the simulated value is the mean over the candidate's seeds (the simulated moment).
Loss functions are interchangeable: quadratic, or Huber (quadratic inside the tolerance, linear
outside, so a target the model cannot reach does not dominate the fit).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from simsales.calibration.targets import TargetSet
from simsales.errors import InputError

#: Standardised residual charged for a target whose KPI is NaN in every seed (not measurable).
NAN_RESIDUAL = 10.0


class Loss(ABC):
    """Penalty of standardised residuals, elementwise; zero at zero."""

    name: str = "loss"

    @abstractmethod
    def __call__(self, z: np.ndarray) -> np.ndarray:
        """Elementwise penalty."""

    def weights(self, z: np.ndarray) -> np.ndarray:
        """IRLS weights w(z) with loss(z) ~ w z^2 locally (used by surrogate samplers)."""
        return np.ones_like(z)


class QuadraticLoss(Loss):
    """z squared: the classic method-of-moments distance."""

    name = "quadratic"

    def __call__(self, z: np.ndarray) -> np.ndarray:
        """z**2."""
        return np.square(z)


@dataclass
class HuberLoss(Loss):
    """Quadratic for |z| <= delta, linear beyond: robust to targets the model cannot reach."""

    delta: float = 1.0
    name: str = "huber"

    def __call__(self, z: np.ndarray) -> np.ndarray:
        """z**2 inside delta, 2 delta |z| - delta**2 outside."""
        a = np.abs(z)
        return np.where(a <= self.delta, np.square(z), 2 * self.delta * a - self.delta**2)

    def weights(self, z: np.ndarray) -> np.ndarray:
        """1 inside delta, delta/|z| outside."""
        a = np.abs(z)
        return np.where(a <= self.delta, 1.0, self.delta / np.maximum(a, 1e-12))


LOSSES: dict[str, type[Loss]] = {"quadratic": QuadraticLoss, "huber": HuberLoss}


@dataclass
class Objective:
    """Weighted mean loss of standardised residuals of seed-averaged KPIs against targets."""

    targets: TargetSet
    loss: Loss

    def residuals(self, kpis: np.ndarray) -> np.ndarray:
        """Standardised residuals of KPI rows (... x targets); NaN stays NaN."""
        return (np.asarray(kpis, dtype=float) - self.targets.values) / self.targets.scales

    def from_residuals(self, z: np.ndarray) -> np.ndarray:
        """Objective of residual rows (... x targets); NaN residuals count as NAN_RESIDUAL."""
        z = np.where(np.isfinite(z), z, NAN_RESIDUAL)
        w = self.targets.weights
        return (self.loss(z) * w).sum(axis=-1) / w.sum()

    def mean_kpis(self, per_seed: np.ndarray) -> np.ndarray:
        """Seed means (seeds x targets -> targets), ignoring NaN seeds."""
        per_seed = np.asarray(per_seed, dtype=float)
        with np.errstate(invalid="ignore"):
            finite = np.isfinite(per_seed)
            total = np.where(finite, per_seed, 0.0).sum(axis=0)
            count = finite.sum(axis=0)
            return np.where(count > 0, total / np.maximum(count, 1), np.nan)

    def __call__(self, per_seed: np.ndarray) -> float:
        """Objective of one candidate from its KPI matrix (seeds x targets)."""
        return float(self.from_residuals(self.residuals(self.mean_kpis(per_seed))))

    def per_seed(self, per_seed: np.ndarray) -> np.ndarray:
        """Objective of each seed's KPIs alone (for paired comparisons under common random numbers)."""
        return self.from_residuals(self.residuals(per_seed))


def make_loss(name: str) -> Loss:
    """A loss by name ('huber' or 'quadratic')."""
    if name not in LOSSES:
        raise InputError(f"unknown loss '{name}'; allowed: {', '.join(LOSSES)}", key="loss")
    return LOSSES[name]()
