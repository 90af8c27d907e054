"""`run()`: one scenario, one seed, one horizon -> a `RunResult` of tidy DataFrames."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mesa
import pandas as pd

from simsales.kpis import kpi_table
from simsales.model import MarketModel
from simsales.scenario import Scenario


@dataclass
class RunResult:
    """What a finished run produced: KPIs against targets, daily and monthly series, dealers, products."""

    scenario: str
    seed: int | None
    kpis: pd.DataFrame
    daily: pd.DataFrame
    monthly: pd.DataFrame
    dealers: pd.DataFrame
    #: product x month in real units: orders, deliveries (cars), revenue (yuan paid to the store,
    #: VAT included, before purchase tax and subsidy), avg_price (yuan per car); see `Recorder.products_monthly`
    products: pd.DataFrame

    @classmethod
    def from_model(cls, model: MarketModel) -> RunResult:
        """Collect the outputs of a model that has been stepped."""
        return cls(
            scenario=model.spec.name,
            seed=model.seed,
            kpis=kpi_table(model.kpis()),
            daily=model.recorder.daily(),
            monthly=model.recorder.monthly(),
            dealers=dealer_table(model),
            products=model.recorder.products_monthly(model.catalogue.ids, model.spec.run.real_population / model.spec.run.n_consumers),
        )

    def kpi(self, key: str) -> float:
        """One KPI value by id."""
        return float(self.kpis.set_index("id").at[key, "value"])

    def save(self, out: str | Path) -> Path:
        """Write kpis.csv and the series as Parquet into `out`; returns the folder."""
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        self.kpis[["id", "value", "target", "rel_error"]].to_csv(folder / "kpis.csv", index=False)
        self.daily.to_parquet(folder / "daily.parquet", index=False)
        self.monthly.to_parquet(folder / "monthly.parquet", index=False)
        self.dealers.to_parquet(folder / "dealers.parquet", index=False)
        self.products.to_parquet(folder / "products.parquet", index=False)
        return folder


def dealer_table(model: MarketModel) -> pd.DataFrame:
    """One row per dealer: format, tier, group, leads, orders and deliveries in the window."""
    net, rec = model.network, model.recorder
    return pd.DataFrame(
        {
            "dealer": range(net.n),
            "format": [net.formats[f].name for f in net.fmt],
            "tier": [d.tier for d in model.dealers],
            "group": net.group,
            "focal": net.focal,
            "leads": rec.dealer_leads,
            "online_leads": rec.dealer_online_leads,
            "orders": rec.dealer_orders,
            "deliveries": rec.dealer_deliveries,
            "stock": net.stock_total().sum(axis=1),
        }
    )


def run(
    scenario: Scenario | str | Path | None = None,
    *,
    seed: int | None = None,
    n_consumers: int | None = None,
    days: int | None = None,
    params: dict[str, Any] | None = None,
    progress: bool = False,
) -> RunResult:
    """Build a `MarketModel`, run it to the end of its horizon and return its outputs."""
    model = MarketModel(scenario=scenario, seed=seed, n_consumers=n_consumers, days=days, params=params)
    try:
        model.run_model(progress=progress)
        return RunResult.from_model(model)
    finally:
        release_model(model)


def release_model(model: mesa.Model) -> None:
    """Let a finished model be garbage-collected: Mesa 3.3 keeps every model in `Agent._ids`
    (about 20 MB per default-size run), so calibration and experiment workers would grow without bound."""
    ids = getattr(mesa.Agent, "_ids", None)
    if isinstance(ids, dict):
        ids.pop(model, None)
