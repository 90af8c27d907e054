"""Discrete choice with one uniform draw per chooser (inverse-CDF over the alternatives)."""

from __future__ import annotations

import numpy as np


def choose_by_weights(weights: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
    """Row-wise categorical draw: column index chosen with probability weight / row sum.

    `weights` is (k, m) non-negative with positive row sums; `uniforms` is (k,) in [0, 1).
    """
    cum = np.cumsum(weights, axis=1)
    threshold = uniforms * cum[:, -1]
    choice = (cum <= threshold[:, None]).sum(axis=1)
    return np.minimum(choice, weights.shape[1] - 1)


def logit_choice(utility: np.ndarray, available: np.ndarray, outside: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
    """Multinomial logit over available alternatives plus an outside option.

    Returns the chosen column, or -1 for the outside option.  `utility` and `available` are
    (k, m); `outside` is (k,) or scalar utility of choosing nothing.
    """
    m = utility.shape[1]
    choice = choose_by_weights(_logit_weights(utility, available, outside), uniforms)
    return np.where(choice == m, -1, choice)


def logit_probabilities(utility: np.ndarray, available: np.ndarray, outside: np.ndarray) -> np.ndarray:
    """Choice probabilities (k, m + 1), last column the outside option; for tests and analysis."""
    weights = _logit_weights(utility, available, outside)
    return weights / weights.sum(axis=1, keepdims=True)


def _logit_weights(utility: np.ndarray, available: np.ndarray, outside: np.ndarray) -> np.ndarray:
    """exp(utility) with unavailable columns at zero and the outside option appended, overflow-safe."""
    k, m = utility.shape
    full = np.empty((k, m + 1))
    full[:, :m] = np.where(available, utility, -np.inf)
    full[:, m] = outside
    full -= full.max(axis=1, keepdims=True)
    return np.exp(full)
