"""Salespeople: Mesa agents filling planned positions at dealers, with array state for speed.

Each dealer has planned positions (slots).  A slot is filled by a `Salesperson` agent or vacant.
A slot stands for `Salesforce.weight` people of the simulated population: a store agent smaller than
one real store (or a plan's tranche of a few outlets) still has one slot to serve its visitors, but
its headcount, payroll and vacancies count only the staff it stands for.
Attrition, hiring and learning run once a month over all slots at once; the daily journey reads
knowledge, incentive weight and ramp-up straight from the slot arrays.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from simsales.scenario.schema import DAYS_PER_MONTH, SalesforceSpec
from simsales.streams import Purpose

if TYPE_CHECKING:
    from simsales.model import MarketModel



class Salesperson(mesa.Agent):
    """A salesperson in one slot; attributes are read from the `Salesforce` arrays."""

    def __init__(self, model: MarketModel, slot: int) -> None:
        super().__init__(model)
        self.slot = slot

    @property
    def _force(self) -> Salesforce:
        return self.model.salesforce

    @property
    def dealer(self) -> int:
        """Index of the store this salesperson works at."""
        return int(self._force.dealer[self.slot])

    @property
    def nev_knowledge(self) -> float:
        """Ability to explain NEV technology, 0 to 1."""
        return float(self._force.knowledge[self.slot])

    @property
    def tenure_days(self) -> int:
        """Days since hiring."""
        return int(self._force.tenure_days[self.slot])

    @property
    def volume_weight(self) -> float:
        """Weight of volume KPIs in this salesperson's appraisal."""
        return float(self._force.volume_weight[self.slot])

    @property
    def ramp(self) -> float:
        """Productivity during onboarding, 0 to 1."""
        return float(self._force.ramp()[self.slot])

    @property
    def units_sold(self) -> int:
        """Orders taken since the start date."""
        return int(self._force.units_sold[self.slot])


class Salesforce:
    """Slot arrays for every planned sales position, and the agents that fill them."""

    def __init__(
        self, model: MarketModel, spec: SalesforceSpec, positions_per_dealer: np.ndarray, staff_per_dealer: np.ndarray | None = None
    ) -> None:
        """`staff_per_dealer`: the staff each dealer stands for (default: one per position), shared by its slots."""
        streams = model.streams
        self.model = model
        self.spec = spec
        self.dealer = np.repeat(np.arange(len(positions_per_dealer)), positions_per_dealer)
        n = len(self.dealer)
        self.n_slots = n
        staff = np.asarray(positions_per_dealer, dtype=float) if staff_per_dealer is None else np.asarray(staff_per_dealer, dtype=float)
        #: people of the simulated population each slot stands for (its store's staff over its slots)
        self.weight = np.repeat(staff / np.maximum(positions_per_dealer, 1), positions_per_dealer)
        slots = np.arange(n)
        self.filled = streams.uniform(Purpose.SALES_VACANCY, slots, 0) >= spec.initial_vacancy
        knowledge = spec.knowledge_mean + spec.knowledge_sd * streams.normal(Purpose.SALES_KNOWLEDGE, slots, 0)
        self.knowledge = np.clip(knowledge, 0.0, 1.0)
        tenure_months = streams.exponential(Purpose.SALES_TENURE, slots, 0, spec.tenure_mean_months)
        self.tenure_days = (tenure_months * DAYS_PER_MONTH).astype(np.int32)
        self.volume_weight = np.full(n, spec.volume_weight)
        self.capacity = np.full(n, spec.capacity_per_day)
        self.monthly_attrition = spec.monthly_attrition
        self.hire_prob_month = spec.hire_prob_month
        self.new_hire_knowledge = spec.new_hire_knowledge
        self.learning_per_month = spec.learning_per_month
        self.onboarding_months = spec.onboarding_months
        self.units_sold = np.zeros(n, dtype=np.int64)
        self.last_leavers = np.zeros(n, dtype=bool)  # slots whose holder left at the last month end
        self.agents: dict[int, Salesperson] = {}
        for slot in np.flatnonzero(self.filled):
            self.agents[int(slot)] = Salesperson(model, int(slot))
        self._index()

    def _index(self) -> None:
        """Filled slots grouped by dealer, for assigning visitors with one uniform each."""
        filled = np.flatnonzero(self.filled)
        order = np.argsort(self.dealer[filled], kind="stable")
        self.active = filled[order]
        n_dealers = int(self.dealer.max(initial=-1)) + 1
        self.active_count = np.bincount(self.dealer[self.active], minlength=n_dealers)
        self.active_start = np.concatenate(([0], np.cumsum(self.active_count)[:-1]))

    def ramp(self) -> np.ndarray:
        """Onboarding productivity per slot: linear from 0.5 to 1 over the onboarding months."""
        months = self.tenure_days / DAYS_PER_MONTH
        levers = getattr(self.model, "levers", None)  # None when used without a MarketModel
        onboarding = self.onboarding_months * (levers.onboarding_factor[self.dealer] if levers else 1.0)
        return 0.5 + 0.5 * np.minimum(months / onboarding, 1.0)

    def assign(self, dealers: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
        """A salesperson slot for each visitor at `dealers` (-1 where the store has nobody)."""
        if len(self.active) == 0:
            return np.full(len(dealers), -1, dtype=np.int64)
        count = self.active_count[dealers]
        offset = np.minimum((uniforms * count).astype(np.int64), np.maximum(count - 1, 0))
        pick = np.minimum(self.active_start[dealers] + offset, len(self.active) - 1)
        return np.where(count > 0, self.active[pick], -1)

    def at_dealer(self, dealer: int) -> list[Salesperson]:
        """The salespeople working at one dealer."""
        return [self.agents[int(s)] for s in np.flatnonzero(self.filled & (self.dealer == dealer))]

    def headcount(self, slots: np.ndarray | None = None) -> float:
        """Staff in filled positions (of the slots in boolean mask `slots`, default all), in people of the simulated population."""
        filled = self.filled if slots is None else self.filled & slots
        return float(self.weight[filled].sum())

    def positions(self, slots: np.ndarray | None = None) -> float:
        """Planned staff (of the slots in mask `slots`, default all), filled or not, in people of the simulated population."""
        return float(self.weight.sum() if slots is None else self.weight[slots].sum())

    def month_end(self, day: int) -> tuple[float, float]:
        """Attrition, hiring and a month of learning and tenure on `day` (keys the draws); returns (leavers, hires) in people."""
        lev = getattr(self.model, "levers", None)  # None when used without a MarketModel
        attrition = self.monthly_attrition * (lev.attrition_factor[self.dealer] if lev else 1.0)
        hiring = self.hire_prob_month * (lev.hire_factor[self.dealer] * self.model.network.is_open[self.dealer] if lev else 1.0)
        u = self.model.streams.uniform(Purpose.SALES_MONTH, np.arange(self.n_slots), day)
        leave = self.filled & (u < attrition)
        hire = ~self.filled & (u < hiring)
        self.last_leavers = leave
        for slot in np.flatnonzero(leave):
            self.agents.pop(int(slot)).remove()
        for slot in np.flatnonzero(hire):
            self.agents[int(slot)] = Salesperson(self.model, int(slot))
        self.filled = (self.filled & ~leave) | hire
        self.knowledge[hire] = self.new_hire_knowledge
        self.tenure_days[hire] = 0
        self.tenure_days[self.filled] += round(DAYS_PER_MONTH)
        learning = self.learning_per_month + (lev.training_per_month[self.dealer] if lev else np.zeros(self.n_slots))
        if lev is not None and lev.onboarding_learning.any():  # mentors pass on what they know during onboarding
            onboarding = self.onboarding_months * lev.onboarding_factor[self.dealer] * DAYS_PER_MONTH
            learning = learning + lev.onboarding_learning[self.dealer] * (self.tenure_days <= onboarding)
        self.knowledge[self.filled] = np.minimum(self.knowledge[self.filled] + learning[self.filled], 1.0)
        self._index()
        return float(self.weight[leave].sum()), float(self.weight[hire].sum())

    def staff_store(self, dealer: int, staffed: bool) -> int:
        """Fill every position of a store with new hires (a store opening) or empty them; returns slots changed."""
        slots = np.flatnonzero((self.dealer == dealer) & (self.filled != staffed))
        for slot in slots:
            if staffed:
                self.agents[int(slot)] = Salesperson(self.model, int(slot))
            else:
                self.agents.pop(int(slot)).remove()
        self.filled[slots] = staffed
        if staffed:
            self.knowledge[slots] = self.new_hire_knowledge
            self.tenure_days[slots] = 0
        self._index()
        return len(slots)
