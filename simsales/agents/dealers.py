"""Dealers: Mesa agents over a shared array store of stock, pipeline and prices.

Stock is held per dealer x product x age (days, oldest bucket open-ended) so that markdown
of aged stock and first-in-first-out sales are exact and vectorised over all dealers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import mesa
import numpy as np
from scipy.special import ndtri

from simsales.market.catalogue import Catalogue
from simsales.scenario.schema import DAYS_PER_MONTH, TIERS, NetworkSpec, StoreFormat
from simsales.streams import Purpose, Streams

if TYPE_CHECKING:
    from simsales.agents.salespeople import Salesperson
    from simsales.levers import Levers
    from simsales.model import MarketModel

MAX_AGE_DAYS = 366  # stock older than a year is lumped into the last bucket
PIPELINE_DAYS = 256  # ring buffer length; replenishment lead times must be shorter
MAX_DISCOUNT = 0.9  # discounts from levers are capped here
#: Days over which a store's forecast error persists (AR(1) correlation exp(-days between orders / this)); an assumption.
FORECAST_ERROR_MEMORY_DAYS = 180.0
#: Mean absolute value of a standard normal: a normal error of sd s has mean absolute size s x this.
MEAN_ABS_NORMAL = float(np.sqrt(2.0 / np.pi))


def allocate(n: int, shares: np.ndarray) -> np.ndarray:
    """Counts summing to n, proportional to shares (largest remainder)."""
    raw = shares / shares.sum() * n
    counts = np.floor(raw).astype(int)
    short = n - counts.sum()
    counts[np.argsort(-(raw - counts), kind="stable")[:short]] += 1
    return counts


def store_layout(n: int, format_shares: np.ndarray, tier_shares: np.ndarray, focal_share: float, groups: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Deterministic store network: format, tier and group of each store.

    Counts follow the shares exactly (largest remainder); tiers are spread evenly across
    formats (stores ranked by a golden-ratio sequence) and the focal firm's stores are spaced
    evenly through the format-sorted list, so it holds every format in proportion.  The layout
    uses no randomness: every replicate of a scenario competes in the same network.
    """
    fmt = np.repeat(np.arange(len(format_shares)), allocate(n, format_shares))
    spread = np.argsort(((np.arange(n) + 1) * (np.sqrt(5.0) - 1.0) / 2.0) % 1.0, kind="stable")
    tier = np.empty(n, dtype=np.int64)
    tier[spread] = np.repeat(np.arange(len(tier_shares)), allocate(n, tier_shares))
    n_focal = max(1, round(focal_share * n))
    focal = np.floor((np.arange(n_focal) + 0.5) * n / n_focal).astype(int)
    group = np.empty(n, dtype=np.int8)
    group[focal] = 0
    rest = np.setdiff1d(np.arange(n), focal)
    group[rest] = 1 + np.arange(len(rest)) % max(groups - 1, 1)
    return fmt, tier, group


def response_spread(fmt: np.ndarray, sigma: float) -> np.ndarray:
    """Mean-one factors on each store's response time: log-normal quantiles within each format.

    Real outlets answer online leads anywhere from minutes to days, so the share of them
    converting below 15% (`journey.dealers_online_conversion_below_15`) is a matter of spread,
    not only of the mean.  The n stores of a format take the quantiles (k + 0.5) / n of a
    log-normal with log-sd `sigma`, in an order spread by a sqrt(2) sequence (so speed is not
    tied to tier or group, which follow golden-ratio and even spacing), scaled to mean one so the
    format's `response_minutes` stays its mean.  No randomness: every replicate of a scenario has
    the same fast and slow stores.  `sigma = 0` gives exactly 1 for every store.
    """
    factor = np.ones(len(fmt))
    if sigma == 0.0:
        return factor
    for f in np.unique(fmt):
        stores = np.flatnonzero(fmt == f)
        n = len(stores)
        rank = np.argsort(np.argsort(((np.arange(n) + 1) * (np.sqrt(2.0) - 1.0)) % 1.0, kind="stable"), kind="stable")
        q = np.exp(sigma * ndtri((rank + 0.5) / n))
        factor[stores] = q / q.mean()
    return factor


class Network:
    """Array state of all stores: formats, tiers, groups, stock, pipeline and prices."""

    def __init__(
        self,
        spec: NetworkSpec,
        catalogue: Catalogue,
        n_dealers: int,
        extra_stores: Sequence[tuple[int, int, float]] = (),
    ) -> None:
        self.spec = spec
        self.formats: tuple[StoreFormat, ...] = spec.formats
        self.n = n_dealers
        n_products = len(catalogue)
        upper = 1.0 - spec.lower_tier_dealer_share - spec.tier1_dealer_share
        self.fmt, self.tier, group = store_layout(
            n_dealers,
            np.array([f.share for f in spec.formats]),
            np.array([spec.tier1_dealer_share, upper, spec.lower_tier_dealer_share]),
            spec.focal_store_share,
            spec.groups,
        )
        self.group = group
        spread = response_spread(self.fmt, spec.response_dispersion)
        #: Real outlets each store agent stands for: the market's outlets shared by the agents of the
        #: built network; a store a scenario opens stands for the real outlets the plan opens.
        self.base_outlet_weight = spec.real_dealers / n_dealers
        self.outlet_weight = np.full(n_dealers, self.base_outlet_weight)
        if extra_stores:  # stores a scenario opens for the focal firm: (format index, tier index, real outlets), appended
            self.fmt = np.concatenate([self.fmt, [f for f, _, _ in extra_stores]]).astype(self.fmt.dtype)
            self.tier = np.concatenate([self.tier, [t for _, t, _ in extra_stores]]).astype(self.tier.dtype)
            self.group = np.concatenate([group, np.zeros(len(extra_stores), dtype=np.int8)])
            self.outlet_weight = np.concatenate([self.outlet_weight, [w for _, _, w in extra_stores]])
            spread = np.concatenate([spread, np.ones(len(extra_stores))])  # a new store answers in its format's mean time
            n_dealers = self.n = len(self.fmt)
        self.is_open = np.ones(n_dealers, dtype=bool)  # a scenario's new stores stay closed until their date
        self.focal = self.group == 0
        self.sells = np.zeros((n_dealers, n_products), dtype=bool)
        for d in range(n_dealers):
            for pid in self.formats[self.fmt[d]].products:
                self.sells[d, catalogue.index(pid)] = True

        def col(name: str) -> np.ndarray:
            return np.array([getattr(self.formats[f], name) for f in self.fmt], dtype=float)

        self.direct = col("direct").astype(bool)
        self.push_ratio = col("push_ratio")
        self.replenish_days = col("replenish_days").astype(int)
        self.stock_cover_months = col("stock_cover_months")
        self.financing_rate = col("financing_rate")
        self.base_discount = col("base_discount")
        self.markdown_age_days = np.minimum(col("markdown_age_days").astype(int), MAX_AGE_DAYS - 1)
        self.markdown = col("markdown")
        self.response_minutes = col("response_minutes") * spread
        self.info_handover = col("info_handover")
        self.acquisition_per_lead = col("acquisition_per_lead")
        self.fixed_cost_month = col("fixed_cost_month")
        self.margin = col("margin")
        self.attractiveness = col("attractiveness")
        self.staff = col("staff")
        if self.replenish_days.max(initial=0) >= PIPELINE_DAYS:
            raise ValueError(f"replenish_days must be below {PIPELINE_DAYS}")
        self.stock = np.zeros((n_dealers, n_products, MAX_AGE_DAYS), dtype=np.int64)  # int64: no overflow at push x cover
        self.pipeline = np.zeros((PIPELINE_DAYS, n_dealers, n_products), dtype=np.int64)
        self.forecast = np.zeros((n_dealers, n_products))
        # relative error of the forecast the store plans stock on (a state, see order()); its
        # stationary sd per store is set by the model from the firms' forecast accuracy
        self.forecast_error = np.zeros((n_dealers, n_products))
        self.forecast_error_sd = np.zeros(n_dealers)
        self._last_error_day: int | None = None
        self._error_state = np.zeros((n_dealers, n_products))  # the error in standard units
        self._error_var = np.zeros((n_dealers, n_products))
        self.demand_today = np.zeros((n_dealers, n_products))
        self.discount = np.repeat(self.base_discount[:, None], n_products, axis=1)
        # clearance (set by update_prices): the discount part only aged units get, how many aged
        # units are on hand, and the share of the price paid towards buyers' car loans
        self.clearance_off = np.zeros((n_dealers, n_products))
        self.clearance_units = np.zeros((n_dealers, n_products), dtype=np.int64)
        self.buyer_subsidy = np.zeros((n_dealers, n_products))

    def relative_weight(self) -> np.ndarray:
        """Each agent's outlets over a built agent's (1 for the built network): scales its appeal in store choice."""
        return self.outlet_weight / self.base_outlet_weight

    # --- stock ---------------------------------------------------------------------------

    def stock_total(self) -> np.ndarray:
        """Units in stock per dealer x product."""
        return self.stock.sum(axis=2)

    def pipeline_total(self) -> np.ndarray:
        """Units ordered but not arrived, per dealer x product."""
        return self.pipeline.sum(axis=0)

    def start_stock(self, daily_demand: np.ndarray) -> None:
        """Initial forecast and stock at target cover (ages spread over the cover period)."""
        self.forecast = daily_demand * self.sells
        target = np.rint(self.target_stock()).astype(np.int64)
        spread = np.maximum((self.stock_cover_months * DAYS_PER_MONTH).astype(int), 1)
        for d in range(self.n):
            ages = np.arange(spread[d])
            per_age = target[d][:, None] // len(ages)
            self.stock[d, :, ages] = per_age.T
            self.stock[d, :, 0] += target[d] - per_age[:, 0] * len(ages)

    def target_stock(self, levers: Levers | None = None) -> np.ndarray:
        """Order-up-to level: cover months (raised by manufacturer push) plus lead-time demand."""
        push, cover = self.push_ratio, self.stock_cover_months
        if levers is not None:
            push, cover = push * levers.push_factor, cover * levers.cover_factor
        push = np.where(self.direct, 1.0, push)
        cover_days = cover * push * DAYS_PER_MONTH + self.replenish_days
        # log-normal error with mean 1: planned stock is right on average and wrong cell by cell
        return self.forecast * np.exp(self.forecast_error - self._error_var / 2.0) * cover_days[:, None]

    def set_forecast_accuracy(self, accuracy: np.ndarray) -> None:
        """Stationary sd of each store's forecast error from its accuracy (1 - mean absolute relative error)."""
        self.forecast_error_sd = (1.0 - np.asarray(accuracy, dtype=float)) / MEAN_ABS_NORMAL

    def update_forecast_error(self, day: int, streams: Streams, factor: np.ndarray | float = 1.0) -> None:
        """Move each dealer x product's forecast error one step of an AR(1) towards fresh noise.

        The error persists over about `FORECAST_ERROR_MEMORY_DAYS` (a store misjudging a model keeps
        misjudging it for a while); its stationary sd is the store's `forecast_error_sd` x `factor`
        (the forecast_error_factor lever: better forecasting shrinks it).  The state is kept in
        standard units and scaled by today's sd, so a change of `factor` acts on the next order at
        once and smoothly.  One keyed normal per cell and order day; the first call draws the
        state from its stationary distribution.
        """
        z = streams.normal(Purpose.FORECAST_ERROR, np.arange(self.forecast.size), day).reshape(self.forecast.shape)
        # the error misjudges the mix of a store's demand, not its total: the part common to the
        # models the store sells (their mean) is removed, so stores plan about the same total stock
        # and hold it in the wrong models; what remains is smaller than 1 - accuracy where a store
        # sells few models (a store's total is easier to forecast than each model's).  The weights
        # depend on what the store sells, not on its sales, so two arms of a paired comparison
        # share the same error whatever their demand.
        weight = self.sells / np.maximum(self.sells.sum(axis=1, keepdims=True), 1)
        z = z - (weight * z).sum(axis=1, keepdims=True)
        if self._last_error_day is None:
            self._error_state = z
        else:
            rho = np.exp(-(day - self._last_error_day) / FORECAST_ERROR_MEMORY_DAYS)
            self._error_state = rho * self._error_state + np.sqrt(1.0 - rho**2) * z
        self._last_error_day = day
        sd = (self.forecast_error_sd * factor)[:, None]
        self.forecast_error = sd * self._error_state
        # variance of the centred state (1 - 2w + sum w^2 of a unit normal less its weighted mean):
        # the log-normal correction uses it, so planned stock is right on average
        self._error_var = sd**2 * np.maximum(1.0 - 2.0 * weight + (weight**2).sum(axis=1, keepdims=True), 0.0)

    def age_one_day(self) -> None:
        """Every unit gets a day older; the last bucket keeps the oldest."""
        s = self.stock
        s[:, :, -1] += s[:, :, -2]
        s[:, :, 1:-1] = s[:, :, :-2]
        s[:, :, 0] = 0

    def receive(self, day: int) -> np.ndarray:
        """Move today's pipeline arrivals into stock at age 0; returns the arrivals."""
        slot = day % PIPELINE_DAYS
        arrived = self.pipeline[slot].copy()
        self.stock[:, :, 0] += arrived
        self.pipeline[slot] = 0
        return arrived

    def take(self, units: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Remove `units` (dealer x product) oldest first; returns units taken and their summed age."""
        taken = np.zeros(units.shape, dtype=np.int64)
        age_sum = np.zeros(units.shape, dtype=np.int64)
        d, p = np.nonzero(units)
        if len(d) == 0:
            return taken, age_sum
        oldest_first = self.stock[d, p, ::-1]  # copy of the few rows with demand
        before = np.cumsum(oldest_first, axis=1) - oldest_first
        take = np.clip(units[d, p][:, None] - before, 0, oldest_first)
        self.stock[d, p, ::-1] = oldest_first - take
        taken[d, p] = take.sum(axis=1)
        age_sum[d, p] = take @ np.arange(MAX_AGE_DAYS - 1, -1, -1)
        return taken, age_sum

    def update_prices(self, levers: Levers | None = None) -> None:
        """Today's discount: the base discount plus the markdown times the share of units past the
        markdown age (plus lever discounts).

        A store agent stands for many outlets, and an outlet marks a model down while it holds an
        aged unit; the agent's discount is the markdown in proportion to its aged units, so it moves
        smoothly with stock instead of jumping for every buyer when one unit crosses the age (a
        threshold that made paired comparisons diverge).
        """
        aged = np.zeros(self.sells.shape)
        for age in np.unique(self.markdown_age_days):
            rows = self.markdown_age_days == age
            stock = self.stock[rows]
            aged[rows] = stock[:, :, age:].sum(axis=2) / np.maximum(stock.sum(axis=2), 1)
        self.discount = self.base_discount[:, None] + self.markdown[:, None] * aged
        if levers is not None:
            extra = levers.discount_add
            self.clearance_units = self.aged_units(levers)
            old = self.clearance_units > 0
            # a clearance sale: the extra discount is offered on products with stock past the age,
            # and only the aged units are sold at it (journey.place_orders)
            self.clearance_off = levers.clearance_discount[:, None] * old
            if self.clearance_off.any():
                extra = extra + self.clearance_off
            if np.any(extra):
                self.discount = np.clip(self.discount + extra, 0.0, MAX_DISCOUNT)
            self.buyer_subsidy = levers.financing_subsidy + levers.clearance_financing[:, None] * old

    def aged_units(self, levers: Levers) -> np.ndarray:
        """Units older than the clearance age at stores running a clearance (dealer x product; 0 elsewhere)."""
        units = np.zeros(self.sells.shape, dtype=np.int64)
        clearing = (levers.clearance_discount > 0) | (levers.clearance_financing > 0)
        if not clearing.any():
            return units
        ages = np.minimum(levers.clearance_age_days, MAX_AGE_DAYS - 1).astype(int)
        for age in np.unique(ages[clearing]):
            rows = (ages == age) & clearing
            units[rows] = self.stock[rows, :, age + 1 :].sum(axis=2)
        return units

    def update_forecast(self, smoothing: float) -> None:
        """Exponential smoothing of each dealer x product's daily demand; resets today's demand."""
        self.forecast = (1 - smoothing) * self.forecast + smoothing * self.demand_today * self.sells
        self.demand_today[:] = 0

    def order(self, day: int, levers: Levers | None = None, streams: Streams | None = None) -> np.ndarray:
        """Order up to target stock (the factory fills the supply share); returns the units that will arrive.

        With `streams` the fractional part of each gap is ordered with that probability
        (stochastic rounding, one keyed uniform per dealer x product and day), so thin stores
        hold their target on average instead of a rounded-up unit.
        """
        if streams is not None:
            self.update_forecast_error(day, streams, 1.0 if levers is None else levers.forecast_error_factor)
        gap = np.maximum(self.target_stock(levers) - self.stock_total() - self.pipeline_total(), 0.0)
        if streams is not None:
            u = streams.uniform(Purpose.STOCK_ORDER, np.arange(gap.size), day).reshape(gap.shape)
            whole = np.floor(gap + u)
        else:
            whole = np.rint(gap)
        units = whole.astype(np.int64) * self.sells
        if levers is not None and (levers.clearance_discount.any() or levers.clearance_financing.any()):
            # while a clearance runs, aged units are not replaced: stock falls until they are sold
            units = np.maximum(units - self.aged_units(levers), 0)
        if levers is not None and np.any(levers.supply_factor < 1.0):
            units = self._allocate_supply(units, levers.supply_factor)
        self.schedule_arrivals(day, units)
        return units

    def _allocate_supply(self, units: np.ndarray, supply: np.ndarray) -> np.ndarray:
        """Fill a share of each order; fractions carry over to the next order, so no randomness is used."""
        if not hasattr(self, "_supply_carry"):
            self._supply_carry = np.zeros(units.shape)
        wanted = units * supply[None, :] + self._supply_carry * (units > 0)
        filled = np.floor(wanted).astype(np.int64)
        self._supply_carry = np.where(units > 0, wanted - filled, self._supply_carry)
        return filled

    def rebalance(self, pooled: np.ndarray) -> int:
        """Share stock among pooled open stores: move units, oldest first, towards each store's share of forecast demand.

        Returns the units moved.  Received units keep the mean age of the units sent.
        """
        idx = np.flatnonzero(pooled & self.is_open)
        if len(idx) < 2:
            return 0
        stock = self.stock_total()[idx].astype(float)
        total = stock.sum(axis=0)
        demand = self.forecast[idx]
        has = demand.sum(axis=0) > 0
        share = np.divide(demand, demand.sum(axis=0), out=np.zeros_like(demand), where=has[None, :])
        target = total[None, :] * share
        surplus = np.where(has[None, :], np.floor(np.maximum(stock - target, 0.0)), 0.0)
        deficit = np.where(has[None, :], np.maximum(target - stock, 0.0), 0.0)
        movable = np.minimum(surplus.sum(axis=0), np.floor(deficit.sum(axis=0)))
        if movable.sum() < 1:
            return 0
        give = np.floor(surplus * np.divide(movable, surplus.sum(axis=0), out=np.zeros_like(movable), where=surplus.sum(axis=0) > 0))
        sent = give.sum(axis=0)
        units = np.zeros(self.sells.shape, dtype=np.int64)
        units[idx] = give.astype(np.int64)
        taken, age_sum = self.take(units)
        mean_age = np.divide(age_sum.sum(axis=0), np.maximum(taken.sum(axis=0), 1)).astype(int)
        for p in np.flatnonzero(sent > 0):
            n = int(sent[p])
            raw = deficit[:, p] / deficit[:, p].sum() * n
            got = np.floor(raw).astype(int)
            got[np.argsort(-(raw - got), kind="stable")[: n - got.sum()]] += 1
            self.stock[idx, p, min(mean_age[p], MAX_AGE_DAYS - 1)] += got
        return int(sent.sum())

    def schedule_arrivals(self, day: int, units: np.ndarray) -> None:
        """Units (dealer x product) arrive after each dealer's replenishment lead time."""
        slots = (day + np.maximum(self.replenish_days, 1)) % PIPELINE_DAYS
        np.add.at(self.pipeline, (slots, np.arange(self.n)), units)


class Dealer(mesa.Agent):
    """A store: a Mesa agent whose stock and prices live in the model's `Network` arrays."""

    def __init__(self, model: MarketModel, index: int) -> None:
        super().__init__(model)
        self.index = index

    @property
    def network(self) -> Network:
        return self.model.network

    @property
    def format(self) -> str:
        """Store format name (e.g. 'ice_4s', 'nev_direct', 'community')."""
        return self.network.formats[self.network.fmt[self.index]].name

    @property
    def tier(self) -> str:
        """City tier of the store."""
        return TIERS[self.network.tier[self.index]]

    @property
    def group(self) -> int:
        """Dealer group; 0 is the focal firm."""
        return int(self.network.group[self.index])

    @property
    def is_focal(self) -> bool:
        """True for the strategist's own stores."""
        return bool(self.network.focal[self.index])

    @property
    def stock(self) -> dict[str, int]:
        """Units in stock by product id (products the store sells)."""
        total = self.network.stock[self.index].sum(axis=1)
        ids = self.model.catalogue.ids
        return {ids[p]: int(total[p]) for p in np.flatnonzero(self.network.sells[self.index])}

    @property
    def salespeople(self) -> list[Salesperson]:
        """This store's salespeople."""
        return self.model.salesforce.at_dealer(self.index)

    @property
    def units_sold(self) -> int:
        """Orders taken since the start date."""
        return int(self.model.recorder.dealer_orders[self.index])
