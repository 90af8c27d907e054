"""simsales: agent-based simulation of China's car retail market, calibrated to 2023."""

from simsales.model import MarketModel
from simsales.run import RunResult, run
from simsales.scenario import Scenario, ScenarioError, load_scenario

__version__ = "0.1.0"

__all__ = ["MarketModel", "RunResult", "Scenario", "ScenarioError", "__version__", "load_scenario", "run"]
