"""Discrete choice from one keyed uniform per chooser, by Gumbel-max over the alternatives.

Why Gumbel-max and not the inverse CDF: with one uniform and a cumulative sum, raising one
alternative's weight shifts the boundaries of every alternative after it in column order, so
choosers near each of those boundaries switch between two alternatives the change did not
touch (a product after the cheaper one, or the outside option after the last product).  In a
paired comparison (`simsales.streams`) those artificial switches are noise that a small price
change multiplies: they are not consumers at the margin of the change.  Gumbel-max draws
one extreme-value term per alternative and takes the best, which is exactly the multinomial
logit (McFadden 1974; Train, *Discrete Choice Methods with Simulation*, 2009, ch. 3); a
change in one alternative's utility then moves only choosers between that alternative and
their own best alternative, the margin of the change (common random numbers for choice
models: Glasserman & Yao 1992, "Some guidelines and guarantees for common random numbers").

The per-alternative terms are spread from the chooser's one keyed uniform by a 64-bit mix
(`spread_uniforms`), so a choice costs no more keyed draws than before and its numbers stay a
pure function of the chooser's key.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simsales.streams import mix64

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_TO_UNIT = 2.0**-53


def spread_uniforms(uniforms: np.ndarray, n: int) -> np.ndarray:
    """(k, n) uniforms on (0, 1), column j a 64-bit mix of row's uniform and j: independent in effect.

    A pure function of each row's uniform, so paired runs keep the same numbers per chooser.
    """
    bits = (np.asarray(uniforms, dtype=np.float64) * 2.0**53).astype(np.uint64)
    cols = (np.arange(1, n + 1, dtype=np.uint64) * _GOLDEN)[None, :]
    mixed = mix64(mix64(bits)[:, None] ^ cols) >> np.uint64(11)
    return (mixed.astype(np.float64) + 0.5) * _TO_UNIT


def _gumbel(uniforms: np.ndarray, n: int) -> np.ndarray:
    """(k, n) standard Gumbel terms spread from one uniform per row."""
    return -np.log(-np.log(spread_uniforms(uniforms, n)))


def choose_by_weights(weights: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
    """Row-wise categorical draw: column index chosen with probability weight / row sum.

    `weights` is (k, m) non-negative with positive row sums; `uniforms` is (k,) in [0, 1).
    Gumbel-max on log weights: a change of one column's weight moves only rows between that
    column and their best other column.
    """
    with np.errstate(divide="ignore"):
        score = np.log(weights) + _gumbel(uniforms, weights.shape[1])
    return score.argmax(axis=1)


def logit_choice(utility: np.ndarray, available: np.ndarray, outside: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
    """Multinomial logit over available alternatives plus an outside option.

    Returns the chosen column, or -1 for the outside option.  `utility` and `available` are
    (k, m); `outside` is (k,) or scalar utility of choosing nothing.
    """
    k, m = utility.shape
    score = np.empty((k, m + 1))
    score[:, :m] = np.where(available, utility, -np.inf)
    score[:, m] = outside
    score += _gumbel(uniforms, m + 1)
    choice = score.argmax(axis=1)
    return np.where(choice == m, -1, choice)


@dataclass(frozen=True)
class NestTerms:
    """V / scale of a batch of choosers and its log-sum parts, computed once per decision batch.

    `scaled` is V / scale (-inf where a product is unavailable), `weights` = exp(scaled - top),
    `total` their row sums and `top` the row maxima (0 where nothing is available), so that the
    inclusive value is ln(total) + top.  The choice and the price response share them.
    """

    scaled: np.ndarray
    weights: np.ndarray
    total: np.ndarray
    top: np.ndarray
    axis: int = -1

    @property
    def inclusive(self) -> np.ndarray:
        """logsumexp(V / scale) over `axis` (-inf where nothing is available)."""
        with np.errstate(divide="ignore"):
            return np.squeeze(np.log(self.total) + self.top, axis=self.axis)


def nest_terms(utility: np.ndarray, available: np.ndarray, scale: float, axis: int = -1) -> NestTerms:
    """`NestTerms` of `utility` over the available alternatives along `axis`."""
    scaled = np.where(available, utility / scale, -np.inf)
    top = scaled.max(axis=axis, keepdims=True)
    safe_top = np.where(np.isfinite(top), top, 0.0)
    weights = np.exp(scaled - safe_top)
    return NestTerms(scaled, weights, weights.sum(axis=axis, keepdims=True), safe_top, axis)


def nested_logit_choice(
    utility: np.ndarray,
    available: np.ndarray,
    outside: np.ndarray | float,
    uniforms: np.ndarray,
    scale: float,
    terms: NestTerms | None = None,
) -> np.ndarray:
    """Nested logit: the store's products in one nest of scale `scale` (0 < scale <= 1), leaving alone.

    Why: products are closer substitutes for each other than for not buying at all, so a
    product's own-price elasticity is several times the market's (BLP 1995: model level -3 to
    -6.5 against about -1 for the market).  A plain logit ties the two together; the nest scale
    separates them (Train 2009, ch. 4): P(product j | buy) = softmax(V / scale), P(buy) = logit of
    scale x inclusive value against `outside`, inclusive value = logsumexp(V / scale).  With scale 1
    it is `logit_choice` itself (the same draws).  Gumbel-max in both stages, from the chooser's
    one uniform.  Exact in distribution; in a paired comparison a product's price change moves its
    own choosers to other products or out, nobody into another product, but, since the nest's value
    falls for everyone, also a few marginal buyers of other products out of the market (in the
    random-utility form they would stay; that coupling needs Cardell's 1997 nest-level errors).
    `terms`: the batch's `nest_terms`, if already computed.
    """
    if scale >= 1.0:
        return logit_choice(utility, available, outside, uniforms)
    m = utility.shape[1]
    gumbel = _gumbel(uniforms, m + 2)
    terms = nest_terms(utility, available, scale) if terms is None else terms
    within = (terms.scaled + gumbel[:, :m]).argmax(axis=1)
    buy = scale * terms.inclusive + gumbel[:, m] > outside + gumbel[:, m + 1]
    return np.where(buy, within, -1)


def inclusive_value(utility: np.ndarray, available: np.ndarray, scale: float, axis: int = -1) -> np.ndarray:
    """logsumexp(V / scale) over the available alternatives along `axis` (-inf where none is available).

    `scale` x this is the expected utility of the product nest (the store's value to a chooser).
    """
    return nest_terms(utility, available, scale, axis).inclusive


def price_response(
    utility: np.ndarray,
    available: np.ndarray,
    outside: np.ndarray | float,
    scale: float,
    price_utility: np.ndarray,
    terms: NestTerms | None = None,
) -> tuple[np.ndarray, np.ndarray, float, float]:
    """The nested logit's own-price response at one batch of decisions, summed over the choosers.

    `price_utility` (k, m) is β x price, so that ∂V/∂ln p = -price_utility.  With w the product's
    probability within the nest and P(buy) the probability of buying at all, chooser i's own
    elasticity of product j is -β p_j ((1 - w_j) / scale + w_j (1 - P(buy))) and that of buying
    at all when every price rises 1% is -(1 - P(buy)) Σ_j w_j β p_j (the analytic elasticities BLP
    report).  Returned, summed over the k choosers (an elasticity times a probability is the
    derivative of that probability, so the sums are ∂/∂ln p of expected purchases):

        (Σ_i P_i(buy j) per product, Σ_i P_i(buy j) x own elasticity_ij per product,
         Σ_i P_i(buy), Σ_i P_i(buy) x market elasticity_i)

    Their ratios are purchase-weighted elasticities (the KPIs `pricing.product_price_elasticity`
    and `pricing.decision_price_elasticity`).  Sums, not per-chooser arrays, because this runs at
    every decision: two matrix-vector products do most of the work.  `terms`: the batch's
    `nest_terms`, if already computed.  These are the static response of one decision; the
    journey's (consumers who leave may buy later or elsewhere) is measured by paired price cuts
    (`simsales.responses`).
    """
    terms = nest_terms(utility, available, scale) if terms is None else terms
    within = terms.weights / np.where(terms.total > 0, terms.total, 1.0)
    nest_value = scale * terms.inclusive
    p_buy = 1.0 / (1.0 + np.exp(np.clip(outside - nest_value, -700.0, 700.0)))
    x = within * price_utility  # w β p
    # Σ_i P(buy)_i x_ij ((1 - w_ij) / scale + w_ij (1 - P(buy)_i)) = A_j / scale - Σ_i c_i x_ij w_ij
    c = p_buy * (1.0 / scale - 1.0 + p_buy)
    own = -(p_buy @ x / scale - c @ (x * within))
    market = -float((p_buy * (1.0 - p_buy)) @ x.sum(axis=1))
    return p_buy @ within, own, float(p_buy.sum()), market


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
