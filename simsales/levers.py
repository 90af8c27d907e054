"""Named levers of the model: the one place shocks, strategies and risk rules act on.

Every lever is neutral by default (a factor of 1 or a shift of 0).  The journey reads them
each day, so changing a lever changes behaviour from that day on, through the mechanism the
lever names, never by editing an output.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Levers:
    """Current lever values; per-dealer levers are arrays over dealers."""

    n_dealers: int
    demand_multiplier: float = 1.0  # market-entry hazard (consumer confidence)
    nev_utility_shift: float = 0.0  # utility of every NEV (taste shift, licence-plate policy)
    online_lead_factor: float = 1.0  # propensity of researchers to send an online lead
    knowledge_boost: float = 0.0  # added to salespeople's NEV knowledge (training)
    delay_cancel_factor: float = 1.0  # cancellation of factory orders
    delivery_delay_factor: float = 1.0  # factory lead time for orders not in stock
    repair_wait_factor: float = 1.0  # after-sales repair wait
    referral_factor: float = 1.0  # owners' propensity to refer
    response_factor: np.ndarray = field(default=None)  # type: ignore[assignment]
    handover_factor: np.ndarray = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.response_factor is None:
            self.response_factor = np.ones(self.n_dealers)
        if self.handover_factor is None:
            self.handover_factor = np.ones(self.n_dealers)
