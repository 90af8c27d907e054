"""Browser dashboard: pick a scenario and a size, run it next to the 2023 baseline, see real-unit results.

Start it with `python -m simsales.dashboard` (or `make dashboard`); it needs the `viz` extra
(Solara).  `simsales.dashboard.compute` holds everything the page shows as plain functions
returning DataFrames; `simsales.dashboard.charts` draws them; `simsales.dashboard.app` is the
Solara page.
"""

from simsales.dashboard.compute import (
    BASELINE,
    DashboardResult,
    Settings,
    effects,
    funnel,
    kpi_vs_target,
    monthly_bands,
    run_dashboard,
    shipped_scenarios,
    stage_upload,
)

__all__ = [
    "BASELINE",
    "DashboardResult",
    "Settings",
    "effects",
    "funnel",
    "kpi_vs_target",
    "monthly_bands",
    "run_dashboard",
    "shipped_scenarios",
    "stage_upload",
]
