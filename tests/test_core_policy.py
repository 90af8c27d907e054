"""Policy: purchase tax on the pre-VAT price, the NEV exemption and its cap, trade-in subsidies."""

from __future__ import annotations

import numpy as np
import pytest

from simsales.market.catalogue import Catalogue
from simsales.market.policy import PolicyState
from simsales.scenario import Product, Scenario


@pytest.fixture
def catalogue() -> Catalogue:
    """One BEV, one PHEV, one ICE car, all at 113,000 yuan (100,000 before 13% VAT)."""
    products = (
        Product(id="bev", powertrain="BEV", brand_type="domestic", price=113_000, appeal=0.0, winter_range_loss=0.3),
        Product(id="phev", powertrain="PHEV", brand_type="domestic", price=113_000, appeal=0.0, winter_range_loss=0.1),
        Product(id="ice", powertrain="ICE", brand_type="jv", price=113_000, appeal=0.0, winter_range_loss=0.0),
    )
    return Catalogue.from_products(products)


def policy(**changes: float) -> PolicyState:
    base = dict(
        purchase_tax_rate=0.10,
        vat_rate=0.13,
        nev_tax_exemption=1.0,
        nev_tax_cap=1e6,
        trade_in_subsidy_nev=0.0,
        trade_in_subsidy_ice=0.0,
    )
    return PolicyState(**{**base, **changes})


def test_catalogue_flags(catalogue: Catalogue) -> None:
    assert catalogue.is_nev.tolist() == [True, True, False]
    assert catalogue.is_domestic.tolist() == [True, True, False]
    assert catalogue.index("ice") == 2


def test_ice_pays_ten_percent_of_pre_vat_price(catalogue: Catalogue) -> None:
    tax = policy().purchase_tax(catalogue, catalogue.list_price)
    assert tax[2] == pytest.approx(10_000.0)


def test_full_nev_exemption_without_cap(catalogue: Catalogue) -> None:
    tax = policy().purchase_tax(catalogue, catalogue.list_price)
    np.testing.assert_allclose(tax[:2], 0.0)


def test_partial_exemption_halves_nev_tax(catalogue: Catalogue) -> None:
    tax = policy(nev_tax_exemption=0.5).purchase_tax(catalogue, catalogue.list_price)
    np.testing.assert_allclose(tax, [5_000.0, 5_000.0, 10_000.0])


def test_exemption_cap_limits_the_relief(catalogue: Catalogue) -> None:
    tax = policy(nev_tax_cap=3_000.0).purchase_tax(catalogue, catalogue.list_price)
    np.testing.assert_allclose(tax, [7_000.0, 7_000.0, 10_000.0])
    # below the cap the cap does not bind
    cheap = np.array([22_600.0, 22_600.0, 22_600.0])  # tax 2,000 before relief
    np.testing.assert_allclose(
        policy(nev_tax_cap=3_000.0).purchase_tax(catalogue, cheap), [0.0, 0.0, 2_000.0], atol=1e-6
    )


def test_purchase_tax_broadcasts_over_dealers(catalogue: Catalogue) -> None:
    prices = catalogue.list_price[None, :] * np.array([[1.0], [0.9]])  # two dealers, one discounting 10%
    tax = policy(nev_tax_exemption=0.0).purchase_tax(catalogue, prices)
    assert tax.shape == (2, 3)
    np.testing.assert_allclose(tax, [[10_000.0] * 3, [9_000.0] * 3])


def test_trade_in_subsidy_by_powertrain(catalogue: Catalogue) -> None:
    subsidy = policy(trade_in_subsidy_nev=10_000.0, trade_in_subsidy_ice=7_000.0).trade_in_subsidy(catalogue)
    np.testing.assert_allclose(subsidy, [10_000.0, 10_000.0, 7_000.0])


def test_from_spec_copies_the_scenario_policy(baseline: Scenario) -> None:
    state = PolicyState.from_spec(baseline.policy)
    assert state.purchase_tax_rate == baseline.policy.purchase_tax_rate
    assert state.nev_tax_exemption == baseline.policy.nev_tax_exemption
    assert state.trade_in_subsidy_ice == baseline.policy.trade_in_subsidy_ice
