"""`run()`: one scenario, one seed, one horizon -> a `RunResult` of tidy DataFrames."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mesa
import pandas as pd

from simsales.kpis import REGISTRY, kpi_table
from simsales.model import MarketModel
from simsales.scenario import Scenario
from simsales.units import real_scale, to_real_units


@dataclass
class RunResult:
    """What a finished run produced: KPIs against targets, daily and monthly series, dealers, products.

    Series and dealer totals are in real units (agent sums x `scale`, see `simsales.units`);
    `scale` is real households per consumer agent, `outlets_per_store` real outlets per store agent of the built network.
    """

    scenario: str
    seed: int | None
    kpis: pd.DataFrame
    daily: pd.DataFrame
    monthly: pd.DataFrame
    dealers: pd.DataFrame
    #: product x month in real units: orders, deliveries (cars), revenue (yuan paid to the store,
    #: VAT included, before purchase tax and subsidy), avg_price (yuan per car); see `Recorder.products_monthly`
    products: pd.DataFrame
    scale: float = 1.0
    outlets_per_store: float = 1.0
    first_day: pd.Timestamp | None = None

    @classmethod
    def from_model(cls, model: MarketModel) -> RunResult:
        """Collect the outputs of a model that has been stepped, in real units."""
        scale = real_scale(model.spec.run)
        outlets = float(model.network.base_outlet_weight)  # real outlets per agent of the built network
        return cls(
            scenario=model.spec.name,
            seed=model.seed,
            kpis=kpi_table(model.kpis()),
            daily=to_real_units(model.recorder.daily(), scale, outlets),
            monthly=to_real_units(model.recorder.monthly(), scale, outlets),
            dealers=dealer_table(model, scale),
            scale=scale,
            outlets_per_store=outlets,
            first_day=pd.Timestamp(model.spec.run.start_date),
            products=model.recorder.products_monthly(model.catalogue.ids, scale),
        )

    def kpi(self, key: str) -> float:
        """One KPI value by id."""
        return float(self.kpis.set_index("id").at[key, "value"])

    def save(self, out: str | Path) -> Path:
        """Write kpis.csv and the series as Parquet into `out` (columns: docs/outputs.md); returns the folder."""
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        kpi_output(self.kpis, covers_target_year(self.daily))[KPI_COLUMNS].to_csv(folder / "kpis.csv", index=False)
        self.daily.to_parquet(folder / "daily.parquet", index=False)
        self.monthly.to_parquet(folder / "monthly.parquet", index=False)
        self.dealers.to_parquet(folder / "dealers.parquet", index=False)
        self.products.to_parquet(folder / "products.parquet", index=False)
        return folder


#: Columns of kpis.csv: the KPI, its unit, the 2023 figure and whether it is within tolerance.
KPI_COLUMNS = ["id", "value", "unit", "target", "rel_error", "tolerance", "within", "note", "description"]


#: The calendar year the shipped targets (calibration/targets_2023.toml) describe.
TARGET_YEAR = 2023


def covers_target_year(daily: pd.DataFrame) -> bool:
    """True when the recorded window covers the whole target year, so KPIs can be scored against it."""
    if daily.empty:
        return False
    return bool(daily["date"].min() <= pd.Timestamp(TARGET_YEAR, 1, 1) and daily["date"].max() >= pd.Timestamp(TARGET_YEAR, 12, 31))


def kpi_output(kpis: pd.DataFrame, scored: bool) -> pd.DataFrame:
    """The KPI table as written and printed: unit and description from the registry; `within` is
    blank (not False) for a KPI without a 2023 figure, and for every KPI when the run does not
    cover 2023 (`scored=False`), because a partial year is not comparable with a full-year figure."""
    out = kpis.copy()
    out["description"] = [REGISTRY[k].description if k in REGISTRY else "" for k in out["id"]]
    scorable = out["target"].notna() & scored
    out["within"] = out["within"].astype(object).where(scorable, None)
    return out


def dealer_table(model: MarketModel, scale: float = 1.0) -> pd.DataFrame:
    """One row per store agent: format, tier, group, and its leads, orders, deliveries (window totals)
    and end stock in real units, i.e. summed over the `outlets` real stores the agent stands for
    (`Network.outlet_weight`: a scenario's new stores stand for the outlets their plan opens)."""
    net, rec = model.network, model.recorder
    outlets = net.outlet_weight
    return pd.DataFrame(
        {
            "dealer": range(net.n),
            "format": [net.formats[f].name for f in net.fmt],
            "tier": [d.tier for d in model.dealers],
            "group": net.group,
            "focal": net.focal,
            "outlets": outlets,
            "leads": rec.dealer_leads * scale,
            "online_leads": rec.dealer_online_leads * scale,
            "orders": rec.dealer_orders * scale,
            "deliveries": rec.dealer_deliveries * scale,
            "deliveries_per_outlet": rec.dealer_deliveries * scale / outlets,
            "stock": net.stock_total().sum(axis=1) * scale,
            "leads_agents": rec.dealer_leads,
            "orders_agents": rec.dealer_orders,
            "deliveries_agents": rec.dealer_deliveries,
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
