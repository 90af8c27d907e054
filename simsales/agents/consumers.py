"""Consumers as a struct of NumPy arrays, one row per consumer, with a view for inspecting one.

The population is stepped as a whole (see `simsales.journey`); a single consumer can still be
looked at with `population.consumer(i)` and followed with `population.track([...])`.
"""

from __future__ import annotations

from collections.abc import Iterator
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
#: Yuan per unit of the price in `price_sensitivity` (utility lost per 100,000 yuan of net price).
PRICE_UNIT_YUAN = 1e5


def mean_price_coefficient(spec: PopulationSpec) -> float:
    """The population's mean utility lost per yuan of net price (the log-normal spread has mean one)."""
    lower = spec.tier_shares["lower"]
    return spec.price_sensitivity * (1.0 - lower + lower * spec.lower_tier_price_mult) / PRICE_UNIT_YUAN


#: Consumers whose attributes are drawn (and first entry scheduled) per batch at construction: the
#: float64 temporaries of a batch stay a few MB, not 8 bytes x n each (draws are keyed per consumer,
#: so the numbers do not depend on the batch size).
BUILD_BATCH = 1 << 16


def day_dtype(horizon_days: int) -> type[np.signedinteger]:
    """The narrowest integer type for day numbers of a run of `horizon_days` days (warm-up included).

    int16 (2 bytes per consumer and day field instead of 4) while every simulated day, one past the
    horizon and the "no event" mark (the type's maximum) stay distinct; int32 beyond that
    (horizons of about 89 years or more).
    """
    return np.int16 if horizon_days + 2 < np.iinfo(np.int16).max else np.int32


def batches(n: int, size: int | None = None) -> Iterator[slice]:
    """Consecutive slices covering range(n), `size` (default `BUILD_BATCH`) long, the last possibly shorter."""
    size = size or BUILD_BATCH
    for start in range(0, n, size):
        yield slice(start, min(start + size, n))


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

    def __init__(
        self,
        n: int,
        spec: PopulationSpec,
        streams: Streams,
        n_groups: int,
        group_weights: np.ndarray,
        horizon_days: int | None = None,
    ) -> None:
        """Draw every consumer's attributes from its own keyed streams: consumer i is the same
        person whatever the population size or the scenario (see `simsales.streams`).

        `horizon_days` (warm-up plus recorded days) sets the width of the day fields (`day_dtype`;
        None: int32, any horizon).  `nbytes()` gives the memory the arrays take.
        """
        self.n = n
        days = day_dtype(horizon_days) if horizon_days is not None else np.int32
        #: "no event scheduled": beyond every simulated day
        self.no_day = int(np.iinfo(days).max)
        self.state = np.zeros(n, dtype=np.int8)
        self.next_day = np.full(n, self.no_day, dtype=days)
        self.age_band = np.empty(n, dtype=np.int8)
        self.tier = np.empty(n, dtype=np.int8)
        self.online = np.empty(n, dtype=bool)
        self.nev_wtp = np.empty(n, dtype=np.float32)
        self.price_sens = np.empty(n, dtype=np.float32)
        self.owns_car = np.empty(n, dtype=bool)
        #: index of the consumer's market-entry rate: 4 x owned a car at the start + 2 x young + lower tier
        #: (`MarketModel.entry_rate_table`; the three never change, so the rate is looked up, not stored)
        self.entry_class = np.empty(n, dtype=np.uint8)
        self.prev_group = np.empty(n, dtype=np.int8)
        for rows in batches(n):
            self._draw_attributes(rows, spec, streams, group_weights)
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
        self.entry_day = np.full(n, -1, dtype=days)
        self.first_lead_day = np.full(n, -1, dtype=days)
        # cohort days: the first visit at the current store and the test drive there (window ratios)
        self.store_visit_day = np.full(n, -1, dtype=days)
        self.td_day = np.full(n, -1, dtype=days)
        self.referred = np.zeros(n, dtype=bool)
        self.referral_group = np.full(n, -1, dtype=np.int8)
        self.order_day = np.full(n, -1, dtype=days)
        self.promised_day = np.full(n, -1, dtype=days)
        self.price_paid = np.zeros(n, dtype=np.float32)
        self.misdescribed = np.zeros(n, dtype=bool)
        self.winter_unaware = np.zeros(n, dtype=bool)
        self.satisfaction = np.full(n, np.nan, dtype=np.float32)
        self.first_service_done = np.zeros(n, dtype=bool)
        self.owns_sim_car = np.zeros(n, dtype=bool)
        # tracked consumers: a few ids, not a flag per consumer (`log` runs on every batch of events)
        self.traces: dict[int, list[tuple[int, str]]] = {}
        self._tracked_ids = np.empty(0, dtype=np.int64)

    def _draw_attributes(self, rows: slice, spec: PopulationSpec, streams: Streams, group_weights: np.ndarray) -> None:
        """The static attributes of consumers `rows` (ids rows.start .. rows.stop - 1) from their keyed streams."""
        ids = np.arange(rows.start, rows.stop)
        age_band = streams.categorical(Purpose.AGE_BAND, ids, 0, [spec.age_shares[b] for b in AGE_BANDS]).astype(np.int8)
        tier = streams.categorical(Purpose.TIER, ids, 0, [spec.tier_shares[t] for t in TIERS]).astype(np.int8)
        young = np.isin(age_band, YOUNG_BANDS)
        p_online = np.where(young, spec.online_research_prob_young, spec.online_research_prob)
        self.online[rows] = streams.uniform(Purpose.ONLINE, ids, 0) < p_online
        wtp_mean = (
            spec.nev_wtp_mean
            + spec.nev_wtp_tier1_shift * (tier == TIERS.index("tier1"))
            + spec.nev_wtp_lower_shift * (tier == TIERS.index("lower"))
            + spec.nev_wtp_young_shift * young
        )
        self.nev_wtp[rows] = wtp_mean + spec.nev_wtp_sd * streams.normal(Purpose.NEV_WTP, ids, 0)
        price_mult = np.where(tier == TIERS.index("lower"), spec.lower_tier_price_mult, 1.0)
        sigma = spec.price_sensitivity_sd
        lognormal = np.exp(sigma * streams.normal(Purpose.PRICE_SENSITIVITY, ids, 0) - 0.5 * sigma**2)
        self.price_sens[rows] = spec.price_sensitivity * price_mult * lognormal
        owner = streams.uniform(Purpose.OWNS_CAR, ids, 0, 2)
        owns_car = owner[:, 0] < spec.owner_share
        known = owns_car & (owner[:, 1] < spec.previous_group_known)
        groups = streams.categorical(Purpose.PREVIOUS_GROUP, ids, 0, group_weights / group_weights.sum()).astype(np.int8)
        self.prev_group[rows] = np.where(known, groups, -1)
        self.age_band[rows], self.tier[rows] = age_band, tier
        self.owns_car[rows] = owns_car
        self.entry_class[rows] = owns_car * 4 + young * 2 + (tier == TIERS.index("lower"))

    @property
    def young(self) -> np.ndarray:
        """Aged under 36 (`YOUNG_BANDS`), one flag per consumer (computed: the age band never changes)."""
        return np.isin(self.age_band, YOUNG_BANDS)

    @property
    def owned_at_start(self) -> np.ndarray:
        """Owned a car before the run, one flag per consumer (from `entry_class`)."""
        return self.entry_class >= 4

    # --- inspection ----------------------------------------------------------------------

    def nbytes(self) -> int:
        """Bytes held by the consumer arrays (61 per consumer in the baseline, with 2-byte day fields)."""
        return sum(v.nbytes for v in vars(self).values() if isinstance(v, np.ndarray))

    def counts(self) -> np.ndarray:
        """Consumers per journey state (length len(State))."""
        return np.bincount(self.state, minlength=len(State))

    def track(self, ids: list[int] | np.ndarray) -> None:
        """Record the journey of these consumers from now on (see `consumer(i).trace`)."""
        for i in np.asarray(ids, dtype=int):
            if not 0 <= i < self.n:
                raise IndexError(f"cannot track consumer {i}: the population has consumers 0 .. {self.n - 1}")
            self.traces.setdefault(int(i), [])
        self._tracked_ids = np.array(sorted(self.traces), dtype=np.int64)

    @property
    def tracked(self) -> np.ndarray:
        """One flag per consumer: its events are logged (see `track`)."""
        flags = np.zeros(self.n, dtype=bool)
        flags[self._tracked_ids] = True
        return flags

    def log(self, idx: np.ndarray, day: int, event: str) -> None:
        """Append an event to the trace of the tracked consumers among `idx`."""
        if not self.traces:
            return
        for i in idx[np.isin(idx, self._tracked_ids)]:
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
