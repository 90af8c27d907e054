"""Bounded NEV adoption: the secular rise of NEV taste per powertrain, and the premium's ceiling.

Why: a linear taste trend grows without bound.  Fitted at +0.19 a year, it made most
consumers value an NEV above its price by 2028 (a positive NEV price coefficient), so NEV
price policy had almost no effect, and one trend for all NEVs could not let PHEV demand grow
faster than BEV demand (2023: +78.8% against +30.2%).

How: each powertrain's taste shift follows a logistic (diffusion) path, in the tanh form
`shift(t) = ceiling * tanh(rate * t / ceiling)`: zero at the trend origin, growing at `rate`
per year there (the fitted `population.nev_wtp_trend_per_year` for BEV, times
`population.phev_wtp_trend_ratio` for PHEV), and saturating at +/- `ceiling`
(`population.nev_wtp_trend_ceiling`), like the S-curves of technology diffusion (Bass 1969).
Before the origin the path runs below zero symmetrically (the warm-up year 2022).

A consumer's NEV premium (a share of the product's list price the consumer would pay extra
for an NEV) then passes a soft cap: unchanged up to half of `population.nev_premium_max`,
above that it bends smoothly (slope 1 at the knee, tanh-shaped) towards the maximum, which
is below 1 by validation.  `simsales.journey` prices the premium as a willingness to pay
(price sensitivity x premium x list price), not as a discount on price sensitivity, so every
consumer's NEV price coefficient stays negative on every day and price policy keeps its bite.
"""

from __future__ import annotations

from datetime import date

import numpy as np

from simsales.scenario.schema import POWERTRAINS, PopulationSpec

ICE = POWERTRAINS.index("ICE")
PHEV = POWERTRAINS.index("PHEV")


def trend_origin(spec: PopulationSpec, start_date: date) -> date:
    """The day the secular trends are zero: `population.trend_origin`, else the run's start date."""
    return spec.trend_origin if spec.trend_origin is not None else start_date


def taste_shift(spec: PopulationSpec, years: float) -> np.ndarray:
    """NEV premium shift per powertrain (BEV, PHEV, ICE) `years` after the trend origin."""
    rates = np.zeros(len(POWERTRAINS))
    rates[:] = spec.nev_wtp_trend_per_year
    rates[PHEV] *= spec.phev_wtp_trend_ratio
    rates[ICE] = 0.0
    ceiling = spec.nev_wtp_trend_ceiling
    return ceiling * np.tanh(rates * years / ceiling)


def capped_premium(premium: np.ndarray, maximum: float) -> np.ndarray:
    """The premium after the soft cap: identity up to maximum/2, then bending smoothly towards `maximum`."""
    knee = 0.5 * maximum
    over = np.maximum(premium - knee, 0.0)
    return np.minimum(premium, knee) + knee * np.tanh(over / knee)
