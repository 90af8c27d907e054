"""From agents to the real market: the one scale factor, and recorder tables in real units.

A run simulates `run.n_consumers` consumer agents standing for `run.real_population` real
households, so every count of consumers, cars, leads, salespeople and yuan the recorder sums
over agents is multiplied by `real_scale(run) = real_population / n_consumers` to give the real
market.  Store agents are scaled so their staff, stock and costs are a share `store_scale` of a
real outlet's; each one stands for `store_scale * real_scale` real outlets.

Outputs people see (`RunResult`, the files of `simsales run --out`, experiment tables and
figures) are in real units; a few agent counts are kept in `*_agents` columns so the
statistical noise of a small run can be judged.  Column units: docs/outputs.md.
"""

from __future__ import annotations

import pandas as pd

from simsales.recorder import FLOWS, LEVELS
from simsales.scenario.schema import RunSpec

#: Recorder levels that count store agents in built-agent equivalents (scaled to real outlets by the
#: built agents' outlet weight, not by the consumer factor).
STORE_LEVELS = ("open_stores",)
#: Every extensive recorder column: sums over agents, multiplied by the scale factor.
SCALED = (*FLOWS, *(name for name in LEVELS if name not in STORE_LEVELS))
#: Columns whose agent counts are kept beside the real-unit value, as `<name>_agents`.
AGENT_COUNTS = ("entries", "orders", "deliveries")


def real_scale(run: RunSpec) -> float:
    """Real households per consumer agent: the factor from agent counts to the real market."""
    return float(run.real_population) / float(run.n_consumers)


def to_real_units(frame: pd.DataFrame, scale: float, outlets_per_store: float) -> pd.DataFrame:
    """A daily or monthly recorder table with every extensive column in real units.

    Ratios (stock coefficients, shares, attrition) and dates are unchanged; `AGENT_COUNTS` are
    also kept as agent counts in `<name>_agents` columns placed beside them.
    """
    out = frame.copy()
    for name in SCALED:
        if name in out.columns:
            out[name] = out[name] * scale
    for name in STORE_LEVELS:
        if name in out.columns:
            out[name] = out[name] * outlets_per_store
    for name in AGENT_COUNTS:
        if name in frame.columns:
            out.insert(out.columns.get_loc(name) + 1, f"{name}_agents", frame[name])
    return out


#: Recorder flows measured in yuan (all others count people, cars, leads, days or points).
YUAN_FLOWS = (
    "nev_revenue", "revenue", "financing_cost", "acquisition_cost", "salary_cost", "commission_cost",
    "fixed_cost", "gross_margin", "focal_revenue", "trade_in_subsidies", "strategy_cost", "risk_cost",
    "focal_gross_margin", "focal_operating_cost", "focal_profit", "financing_subsidies", "reserve_drawn",
)  # fmt: skip
#: Units of the derived monthly columns.
DERIVED_UNITS = {
    "stock_coefficient": "months of sales", "stock_coefficient_ICE": "months of sales",
    "stock_coefficient_NEV": "months of sales", "nev_share": "%", "focal_share": "%",
    "attrition": "share of headcount per month", "days": "days",
}  # fmt: skip


def display_scale(name: str, period: str = "month") -> tuple[float, str]:
    """Factor and axis unit to plot a real-unit recorder series readably: billion yuan, thousand counts."""
    if name in DERIVED_UNITS:
        return 1.0, DERIVED_UNITS[name]
    if name in YUAN_FLOWS:
        return 1e-9, f"billion yuan per {period}"
    if name in FLOWS:
        return 1e-3, f"thousand per {period}"
    if name in LEVELS:
        return 1e-3, f"thousand at {period} end"
    return 1.0, ""

