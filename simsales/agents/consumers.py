"""Consumers as a struct of NumPy arrays, one row per consumer, with a view for inspecting one.

The population is stepped as a whole (see `simsales.journey`); a single consumer can still be
looked at with `population.consumer(i)` and followed with `population.track([...])`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np

from simsales.scenario.schema import AGE_BANDS, TIERS, PopulationSpec
from simsales.streams import Purpose, Streams


class State(IntEnum):
    """Journey states; every consumer is in exactly one."""

    OUT = 0  # not in the market
    RESEARCH = 1  # researching online
    LEAD = 2  # online lead submitted, waiting for the store to respond
    VISIT = 3  # a store visit is scheduled
    TEST_DRIVE = 4  # test-drove, deciding
    ORDERED = 5  # ordered, waiting for delivery
    OWNER = 6  # owns a car bought in the simulation


YOUNG_BANDS = (AGE_BANDS.index("under25"), AGE_BANDS.index("25_28"), AGE_BANDS.index("29_35"))
NO_DAY = np.iinfo(np.int32).max


@dataclass
class Consumer:
    """A snapshot of one consumer's attributes and journey, with its trace if tracked."""

    id: int
    state: str
    age_band: str
    tier: str
    researches_online: bool
    nev_wtp: float
    price_sensitivity: float
    owns_car: bool
    previous_group: int
    dealer: int
    product: int
    visits: int
    test_driven: bool
    referred: bool
    satisfaction: float
    next_event_day: int
    trace: list[tuple[int, str]] = field(default_factory=list)


class ConsumerPopulation:
    """All consumers' state in arrays of length n."""

    def __init__(self, n: int, spec: PopulationSpec, streams: Streams, n_groups: int, group_weights: np.ndarray) -> None:
        """Draw every consumer's attributes from its own keyed streams: consumer i is the same
        person whatever the population size or the scenario (see `simsales.streams`)."""
        self.n = n
        ids = np.arange(n)
        self.state = np.zeros(n, dtype=np.int8)
        self.next_day = np.full(n, NO_DAY, dtype=np.int32)
        self.age_band = streams.categorical(Purpose.AGE_BAND, ids, 0, [spec.age_shares[b] for b in AGE_BANDS]).astype(np.int8)
        self.tier = streams.categorical(Purpose.TIER, ids, 0, [spec.tier_shares[t] for t in TIERS]).astype(np.int8)
        self.young = np.isin(self.age_band, YOUNG_BANDS)
        p_online = np.where(self.young, spec.online_research_prob_young, spec.online_research_prob)
        self.online = streams.uniform(Purpose.ONLINE, ids, 0) < p_online
        wtp_mean = (
            spec.nev_wtp_mean
            + spec.nev_wtp_tier1_shift * (self.tier == TIERS.index("tier1"))
            + spec.nev_wtp_lower_shift * (self.tier == TIERS.index("lower"))
            + spec.nev_wtp_young_shift * self.young
        )
        self.nev_wtp = (wtp_mean + spec.nev_wtp_sd * streams.normal(Purpose.NEV_WTP, ids, 0)).astype(np.float32)
        price_mult = np.where(self.tier == TIERS.index("lower"), spec.lower_tier_price_mult, 1.0)
        sigma = spec.price_sensitivity_sd
        lognormal = np.exp(sigma * streams.normal(Purpose.PRICE_SENSITIVITY, ids, 0) - 0.5 * sigma**2)
        self.price_sens = (spec.price_sensitivity * price_mult * lognormal).astype(np.float32)
        owner = streams.uniform(Purpose.OWNS_CAR, ids, 0, 2)
        self.owns_car = owner[:, 0] < spec.owner_share
        known = self.owns_car & (owner[:, 1] < spec.previous_group_known)
        groups = streams.categorical(Purpose.PREVIOUS_GROUP, ids, 0, group_weights / group_weights.sum()).astype(np.int8)
        self.prev_group = np.where(known, groups, -1).astype(np.int8)
        # journey state
        self.dealer = np.full(n, -1, dtype=np.int32)
        self.salesperson = np.full(n, -1, dtype=np.int32)
        self.product = np.full(n, -1, dtype=np.int16)
        self.info_lost = np.zeros(n, dtype=bool)
        self.online_lead = np.zeros(n, dtype=bool)
        self.visits = np.zeros(n, dtype=np.int16)
        self.visits_here = np.zeros(n, dtype=np.int16)
        self.td_here = np.zeros(n, dtype=bool)
        self.td_any = np.zeros(n, dtype=bool)
        self.entry_day = np.full(n, -1, dtype=np.int32)
        self.first_lead_day = np.full(n, -1, dtype=np.int32)
        # cohort days: the first visit at the current store and the test drive there (window ratios)
        self.store_visit_day = np.full(n, -1, dtype=np.int32)
        self.td_day = np.full(n, -1, dtype=np.int32)
        self.referred = np.zeros(n, dtype=bool)
        self.referral_group = np.full(n, -1, dtype=np.int8)
        self.order_day = np.full(n, -1, dtype=np.int32)
        self.promised_day = np.full(n, -1, dtype=np.int32)
        self.price_paid = np.zeros(n, dtype=np.float32)
        self.misdescribed = np.zeros(n, dtype=bool)
        self.winter_unaware = np.zeros(n, dtype=bool)
        self.satisfaction = np.full(n, np.nan, dtype=np.float32)
        self.first_service_done = np.zeros(n, dtype=bool)
        self.owns_sim_car = np.zeros(n, dtype=bool)
        self.tracked = np.zeros(n, dtype=bool)
        self.traces: dict[int, list[tuple[int, str]]] = {}

    # --- inspection ----------------------------------------------------------------------

    def counts(self) -> np.ndarray:
        """Consumers per journey state (length len(State))."""
        return np.bincount(self.state, minlength=len(State))

    def track(self, ids: list[int] | np.ndarray) -> None:
        """Record the journey of these consumers from now on (see `consumer(i).trace`)."""
        for i in np.asarray(ids, dtype=int):
            self.tracked[i] = True
            self.traces.setdefault(int(i), [])

    def log(self, idx: np.ndarray, day: int, event: str) -> None:
        """Append an event to the trace of the tracked consumers among `idx`."""
        hit = idx[self.tracked[idx]]
        for i in hit:
            self.traces[int(i)].append((day, event))

    def consumer(self, i: int) -> Consumer:
        """A readable snapshot of consumer i."""
        sat = float(self.satisfaction[i])
        return Consumer(
            id=int(i),
            state=State(int(self.state[i])).name,
            age_band=AGE_BANDS[self.age_band[i]],
            tier=TIERS[self.tier[i]],
            researches_online=bool(self.online[i]),
            nev_wtp=float(self.nev_wtp[i]),
            price_sensitivity=float(self.price_sens[i]),
            owns_car=bool(self.owns_car[i]),
            previous_group=int(self.prev_group[i]),
            dealer=int(self.dealer[i]),
            product=int(self.product[i]),
            visits=int(self.visits[i]),
            test_driven=bool(self.td_any[i]),
            referred=bool(self.referred[i]),
            satisfaction=sat,
            next_event_day=int(self.next_day[i]),
            trace=list(self.traces.get(int(i), [])),
        )
