"""The product catalogue as NumPy arrays, indexed by product number."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simsales.scenario.schema import POWERTRAINS, Product


@dataclass(frozen=True)
class Catalogue:
    """Column arrays over products; `index` maps a product id to its row."""

    ids: tuple[str, ...]
    powertrain: np.ndarray  # int8 index into POWERTRAINS
    is_nev: np.ndarray  # bool
    is_domestic: np.ndarray  # bool
    list_price: np.ndarray  # float64 yuan
    appeal: np.ndarray  # float64 utility constant
    winter_range_loss: np.ndarray  # float64 share

    @classmethod
    def from_products(cls, products: tuple[Product, ...]) -> Catalogue:
        """Build the arrays from scenario products (order preserved)."""
        pt = np.array([POWERTRAINS.index(p.powertrain) for p in products], dtype=np.int8)
        return cls(
            ids=tuple(p.id for p in products),
            powertrain=pt,
            is_nev=pt != POWERTRAINS.index("ICE"),
            is_domestic=np.array([p.brand_type == "domestic" for p in products]),
            list_price=np.array([p.price for p in products], dtype=float),
            appeal=np.array([p.appeal for p in products], dtype=float),
            winter_range_loss=np.array([p.winter_range_loss for p in products], dtype=float),
        )

    def __len__(self) -> int:
        return len(self.ids)

    def index(self, product_id: str) -> int:
        """Row of a product id."""
        return self.ids.index(product_id)


def nest_equivalent_appeal(appeal: np.ndarray | float, price: np.ndarray | float, scale: float, price_coefficient: float) -> np.ndarray | float:
    """A plain-logit utility constant re-expressed for a product nest of scale `scale` (λ).

    The nest compares a store's products on utility / λ, so λ alone would both sharpen the response
    to a price *change* (its purpose) and reshuffle the shares the constants were set for, pushing
    buyers to the cheapest cars and magnifying every appeal gap.  λ x appeal + (1 - λ) x β x price
    (β the mean price coefficient, utility per yuan, `agents.consumers.mean_price_coefficient`)
    keeps a consumer of mean price sensitivity ranking the products at these prices on
    appeal - β x price as before, while a price change moves utility / λ by β / λ per yuan.  The
    result is a product's constant in the scenario: it stays put when the price changes later.
    """
    return scale * appeal + (1.0 - scale) * price_coefficient * price
