"""The model's agents: consumers (arrays), dealers and salespeople (Mesa agents)."""

from simsales.agents.consumers import Consumer, ConsumerPopulation, State
from simsales.agents.dealers import Dealer, Network
from simsales.agents.salespeople import Salesforce, Salesperson

__all__ = ["Consumer", "ConsumerPopulation", "Dealer", "Network", "Salesforce", "Salesperson", "State"]
