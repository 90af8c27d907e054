"""Policy levers in force on a given day and the price a buyer pays after them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simsales.market.catalogue import Catalogue
from simsales.scenario.schema import PolicySpec


@dataclass
class PolicyState:
    """Mutable policy levers (a timeline may change them during a run)."""

    purchase_tax_rate: float
    vat_rate: float
    nev_tax_exemption: float
    nev_tax_cap: float
    trade_in_subsidy_nev: float
    trade_in_subsidy_ice: float

    @classmethod
    def from_spec(cls, spec: PolicySpec) -> PolicyState:
        """Start-of-run policy from the scenario."""
        return cls(**{f: getattr(spec, f) for f in cls.__dataclass_fields__})

    def purchase_tax(self, catalogue: Catalogue, price: np.ndarray) -> np.ndarray:
        """Purchase tax per car at transaction `price` (array over products or buyers x products)."""
        tax = self.purchase_tax_rate * price / (1.0 + self.vat_rate)
        exempt = np.minimum(self.nev_tax_exemption * tax, self.nev_tax_cap)
        return tax - np.where(catalogue.is_nev, exempt, 0.0)

    def trade_in_subsidy(self, catalogue: Catalogue) -> np.ndarray:
        """Subsidy per product for a buyer who scraps or trades in an old car."""
        return np.where(catalogue.is_nev, self.trade_in_subsidy_nev, self.trade_in_subsidy_ice)
