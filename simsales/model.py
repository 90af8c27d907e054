"""`MarketModel`: a Mesa model of China's car retail market, one step per simulated day."""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import mesa
import numpy as np

from simsales import journey
from simsales.agents.consumers import ConsumerPopulation, State, batches
from simsales.agents.dealers import Dealer, Network
from simsales.agents.salespeople import Salesforce, Salesperson
from simsales.events import EventPlan, Timeline
from simsales.levers import Levers
from simsales.market import adoption
from simsales.market.anticipation import Anticipation
from simsales.market.catalogue import Catalogue
from simsales.market.policy import PolicyState
from simsales.recorder import Recorder
from simsales.scenario import Scenario, load_scenario
from simsales.scenario.schema import DAYS_PER_MONTH, MONTHS, TIERS
from simsales.streams import COMPILED_FROM, Streams

#: Conversion of market entrants into buyers assumed only to size the initial stock; the
#: warm-up period replaces it with the model's own demand forecast.
INITIAL_CONVERSION_GUESS = 0.4

#: Daily handlers, in the order they run: owners first, deliveries last.
HANDLERS = (
    (State.OWNER, journey.owner_event),
    (State.OUT, journey.enter_market),
    (State.RESEARCH, journey.finish_research),
    (State.LEAD, journey.contact_leads),
    (State.VISIT, journey.visit_store),
    (State.TEST_DRIVE, journey.decide_after_test_drive),
    (State.ORDERED, journey.deliver),
)


#: `MarketModel` attributes the journey context is made of (its fields of the same names);
#: reassigning one of them makes the model build the context again.
_CONTEXT_SOURCES = frozenset(f.name for f in dataclasses.fields(journey.JourneyContext) if f.init)


def _flows(*names: str) -> Callable[[MarketModel], float]:
    return functools.partial(_sum_today, "flows", names)


def _levels(*names: str) -> Callable[[MarketModel], float]:
    return functools.partial(_sum_today, "levels", names)


def _sum_today(kind: str, names: tuple[str, ...], m: MarketModel) -> float:
    series = getattr(m.recorder, kind)
    return sum(series[name][m.day] for name in names)


def _date(m: MarketModel) -> str:
    return m.date.isoformat()


def _recorded(m: MarketModel) -> bool:
    return m.recorder.recording


#: The Mesa DataCollector's daily model reporters (module-level functions, so a model pickles).
REPORTERS: dict[str, Callable[[MarketModel], object]] = {
    "date": _date,
    "recorded": _recorded,
    "deliveries": _flows("deliveries"),
    "orders": _flows("orders"),
    "leads": _flows("online_leads", "walkin_leads"),
    "in_market": _levels("in_market"),
    "stock": _levels("stock_ICE", "stock_NEV"),
    "salespeople": _levels("headcount"),
}


class MarketModel(mesa.Model):
    """Consumers (arrays), dealers and salespeople (Mesa agents) acting out the buyer's journey.

    All arguments are keyword-only with defaults, so Mesa's `batch_run` and visualisation can
    rebuild the model from keywords.  `scenario` is a `Scenario`, a path to a scenario file or
    None for the shipped 2023 baseline; `params` overrides values by dotted path.  The resolved
    scenario is `model.spec` (Mesa 3.5 reserves `model.scenario` for its own Scenario object).
    """

    def __init__(
        self,
        *,
        scenario: Scenario | str | Path | None = None,
        n_consumers: int | None = None,
        days: int | None = None,
        warmup_days: int | None = None,
        start_date: date | str | None = None,
        params: dict[str, Any] | None = None,
        seed: int | None = None,
        rng: np.random.Generator | int | None = None,
        track: Sequence[int] = (),
    ) -> None:
        mesa_scenario = None
        if scenario is not None and not isinstance(scenario, (Scenario, str, Path)):
            mesa_scenario, scenario = scenario, None  # Mesa >= 3.5 visualisation passes its own Scenario
        base = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        overrides = dict(params or {})
        for key, value in (
            ("run.n_consumers", n_consumers),
            ("run.days", days),
            ("run.warmup_days", warmup_days),
            ("run.start_date", str(start_date) if start_date is not None else None),
        ):
            if value is not None:
                overrides[key] = value
        self.spec: Scenario = base.replace(**overrides) if overrides else base
        if rng is None:
            rng = self.spec.run.seed if seed is None else seed
        if mesa_scenario is not None:
            super().__init__(scenario=mesa_scenario)
        else:
            super().__init__(rng=rng)
        self.seed = seed if seed is not None else (rng if isinstance(rng, int) else None)
        # One draw from model.rng keys every random number of the run (see simsales.streams):
        # the same seed gives the same key, and draws do not depend on processing order.
        run = self.spec.run
        # large models draw through compiled kernels: the same numbers with less overhead per call
        self.streams = Streams(int(self.rng.integers(0, 2**63)), compiled=run.n_consumers >= COMPILED_FROM)
        self.day = 0
        self.total_days = run.warmup_days + run.days
        self.first_date = run.start_date - timedelta(days=run.warmup_days)
        self.catalogue = Catalogue.from_products(self.spec.products)
        self.policy = PolicyState.from_spec(self.spec.policy)
        plan = EventPlan.of(self.spec)  # shocks, strategies and risk rules (validated here)
        self._build_network(plan)
        self.population = ConsumerPopulation(
            run.n_consumers,
            self.spec.population,
            self.streams,
            self.spec.network.groups,
            np.bincount(self.network.group, minlength=self.spec.network.groups).astype(float),
            horizon_days=self.total_days,
        )
        self.population.track(list(track))
        self.entry_rate_table = self._entry_rate_table()
        self.log_season = np.log([self.spec.population.seasonal_purchase[m] for m in MONTHS])
        self.levers = Levers(self.network.n, len(self.catalogue))
        self.wom = np.full(len(self.catalogue), 80.0)
        self.recorder = Recorder(self.total_days, run.warmup_days, run.start_date, self.network.n, len(self.catalogue))
        self.timeline = Timeline(plan, self)
        self.anticipation = Anticipation(self)
        self._price_today()
        self._trends_today()
        expected_daily = self._entry_rate_sum() / 365.0 * INITIAL_CONVERSION_GUESS
        share = self.dealer_weights.mean(axis=0)
        per_product = self.network.sells / np.maximum(self.network.sells.sum(axis=1, keepdims=True), 1)
        self.network.start_stock(expected_daily * share[:, None] / math.fsum(share) * per_product)
        context, today = self.journey_context, self.market_day()
        for rows in batches(run.n_consumers):  # in batches: no float64 temporaries of n values
            journey.schedule_entry(context, today, np.arange(rows.start, rows.stop))
        self.datacollector = mesa.DataCollector(model_reporters=dict(REPORTERS))

    # --- construction --------------------------------------------------------------------

    def _build_network(self, plan: EventPlan) -> None:
        net_spec, run = self.spec.network, self.spec.run
        real_scale = net_spec.real_dealers * run.n_consumers / run.real_population
        n_dealers = max(net_spec.min_dealers, round(real_scale))
        self.network = Network(net_spec, self.catalogue, n_dealers, plan.extra_stores(net_spec))
        self.network.is_open[:] = plan.open_at_start(self.network.n)
        inv = self.spec.inventory
        self.network.set_forecast_accuracy(np.where(self.network.focal, inv.forecast_accuracy_focal, inv.forecast_accuracy))
        self.dealers = [Dealer(self, d) for d in range(self.network.n)]
        # store cells (format x dealer group): the level at which store choice sees prices (7.3)
        groups = int(self.network.group.max()) + 1
        self.store_cell = self.network.fmt.astype(np.int64) * groups + self.network.group
        self.cell_format = np.repeat(np.arange(len(self.network.formats)), groups)
        # below the real-scale store count each store agent is a fraction of a real-size store:
        # its staff and fixed costs shrink with it, so per-consumer costs do not depend on size.
        # Generally an agent standing for w real outlets is w x n_consumers / real_population
        # real-size stores (a scenario's new stores: the real outlets the plan opens).
        self.store_scale = self.network.outlet_weight * run.n_consumers / run.real_population
        self.store_scale[: n_dealers] = min(real_scale / n_dealers, 1.0)
        staff = self.network.staff * self.store_scale  # people of the simulated population per store agent
        positions = np.maximum(np.rint(staff), 1).astype(int)  # at least one slot, so every store can serve
        self.salesforce = Salesforce(self, self.spec.salesforce, positions, staff)
        self.dealer_weights = self._dealer_weights()

    def _dealer_weights(self) -> np.ndarray:
        """Store-choice weights per consumer tier: own tier with probability p, spread by format appeal."""
        net, p_same = self.network, self.spec.journey.same_tier_store_prob
        appeal = np.exp(net.attractiveness) * net.is_open * net.relative_weight()
        weights = np.zeros((len(TIERS), net.n))
        for t in range(len(TIERS)):
            same = net.tier == t
            w_same = np.where(same, appeal, 0.0)
            w_other = np.where(same, 0.0, appeal)
            # exact sums: a scenario's closed stores (zeros) must not change the open stores' weights by rounding
            s_same, s_other = math.fsum(w_same), math.fsum(w_other)
            if s_same == 0:
                weights[t] = w_other / s_other
            elif s_other == 0:
                weights[t] = w_same / s_same
            else:
                weights[t] = p_same * w_same / s_same + (1 - p_same) * w_other / s_other
        return weights

    def _entry_rate_table(self) -> np.ndarray:
        """Yearly market-entry rate while not in the market, by `ConsumerPopulation.entry_class`.

        A consumer's rate depends only on whether it owned a car at the start, its age band and
        its tier: eight values, looked up by `population.entry_class` (1 byte per consumer)
        instead of stored per consumer (8 bytes).
        """
        spec = self.spec.population
        owned, young, lower = (np.arange(8) >> 2) & 1 == 1, (np.arange(8) >> 1) & 1 == 1, np.arange(8) & 1 == 1
        rate = np.where(owned, spec.entry_rate_owner, spec.entry_rate_nonowner)
        rate = rate * np.where(young, spec.young_entry_mult, 1.0)
        rate = rate * np.where(lower, spec.lower_tier_entry_mult, 1.0)
        return np.maximum(rate, 1e-9)

    def entry_rate(self, idx: np.ndarray) -> np.ndarray:
        """Yearly market-entry rate of consumers `idx` while not in the market."""
        return self.entry_rate_table[self.population.entry_class[idx]]

    def _entry_rate_sum(self) -> float:
        """Sum of every consumer's entry rate (sizes the initial stock).

        Summed over one array of all consumers, so that NumPy's pairwise summation (and its
        rounding) is that of a stored rate per consumer; the array (8 bytes per consumer) lives
        only for this sum.
        """
        return float(self.entry_rate_table[self.population.entry_class].sum())

    # --- what the journey reads ----------------------------------------------------------

    def __setattr__(self, name: str, value: Any) -> None:
        """Set an attribute; reassigning one the journey context holds (`_CONTEXT_SOURCES`) drops the context."""
        super().__setattr__(name, value)
        if name in _CONTEXT_SOURCES:  # the journey context holds the replaced object: build it again when next asked
            self.__dict__.pop("_journey_context", None)

    @property
    def journey_context(self) -> journey.JourneyContext:
        """The journey's fixed dependencies (`journey.JourneyContext`), built from this model's attributes of the same names.

        Built when first asked for and again after one of those attributes is reassigned
        (`__setattr__`), so it never holds a replaced object.
        """
        context = self.__dict__.get("_journey_context")
        if context is None:
            context = journey.JourneyContext(**{name: getattr(self, name) for name in _CONTEXT_SOURCES})
            self._journey_context = context
        return context

    def market_day(self) -> journey.MarketDay:
        """Today's market for the journey (`journey.MarketDay`): references to the day's arrays, no copies.

        Valid once the day's prices and trends are set (`step` builds it then, before the
        handlers run) until the next day's replace them.
        """
        return journey.MarketDay(
            day=self.day,
            list_price=self.list_price,
            net_price=self.net_price,
            trade_in_subsidy=self.trade_in_subsidy,
            store_prices=self.store_prices,
            store_sells=self.store_sells,
            cell_price_row=self.cell_price_row,
            dealer_weights=self.dealer_weights,
            wom=self.wom,
            trend_wtp=self.trend_wtp,
            trend_demand=self.trend_demand,
            log_season=self.log_season_today,
        )

    # --- the day -------------------------------------------------------------------------

    @property
    def date(self) -> date:
        """Calendar date of the current day."""
        return self.first_date + timedelta(days=self.day)

    def _price_today(self) -> None:
        """Transaction price plus purchase tax per dealer x product, the trade-in subsidy per product,
        and the price lists store choice sees (`store_prices`, one per distinct store cell)."""
        net, price_factor = self.network, self.levers.price_factor
        self.list_price = self.catalogue.list_price[None, :] * price_factor  # dealer x product
        price = self.list_price * (1.0 - net.discount)
        self.net_price = price + self.policy.purchase_tax(self.catalogue, price)
        self.trade_in_subsidy = self.policy.trade_in_subsidy(self.catalogue)
        self._store_prices_today()

    def _store_prices_today(self) -> None:
        """Store choice sees one price list per store cell (format x dealer group): the format's base
        discount on list prices times the cell's mean list-price change, so a competitor's price cut
        raises only its own stores' appeal.  Cells with equal prices and range share one row of
        `store_prices` / `store_sells` (in the baseline one per format); `dealer_price_row` maps stores to rows."""
        net, price_factor, cell = self.network, self.levers.price_factor, self.store_cell
        n_cells, n_products = len(self.cell_format), len(self.catalogue)
        discount = np.array([f.base_discount for f in net.formats])[self.cell_format][:, None]
        list_price = self.catalogue.list_price[None, :] * (1.0 - discount)  # cell x product
        if np.any(price_factor != 1.0):  # each cell's mean list-price change
            counts = np.bincount(cell, minlength=n_cells)[:, None]
            sums = np.zeros((n_cells, n_products))
            np.add.at(sums, cell, price_factor)
            list_price = list_price * np.where(counts > 0, sums / np.maximum(counts, 1), 1.0)
        sells = np.zeros((len(net.formats), n_products), dtype=bool)
        sells[net.fmt] = net.sells
        cell_price = list_price + self.policy.purchase_tax(self.catalogue, list_price)
        rows, row_of_cell = np.unique(np.hstack([cell_price, sells[self.cell_format]]), axis=0, return_inverse=True)
        self.store_prices, self.store_sells = rows[:, :n_products], rows[:, n_products:] > 0
        self.cell_price_row = row_of_cell.ravel()
        self.dealer_price_row = self.cell_price_row[cell]

    def _trends_today(self) -> None:
        """Secular trends (NEV taste shift per product on a bounded diffusion path, market-entry growth) and the season."""
        spec = self.spec.population
        today = self.date
        years = (today - adoption.trend_origin(spec, self.spec.run.start_date)).days / 365.0
        self.trend_wtp = adoption.taste_shift(spec, years)[self.catalogue.powertrain]
        self.trend_demand = (1.0 + spec.demand_trend_per_year) ** years
        self.log_season_today = float(self.log_season[today.month - 1])

    def step(self) -> None:
        """One simulated day."""
        if self.day >= self.total_days:
            self.running = False
            return
        rec, net, pop = self.recorder, self.network, self.population
        rec.day = self.day
        self.timeline.start_of_day()
        net.age_one_day()
        rec.add("arrivals", net.receive(self.day).sum())
        net.update_prices(self.levers)
        self._price_today()
        self._trends_today()
        due = np.flatnonzero(pop.next_day == self.day)
        if due.size:
            context, today = self.journey_context, self.market_day()
            states = pop.state[due]
            for state, handler in HANDLERS:
                subset = due[states == state.value]  # a plain int: NumPy compares an IntEnum ten times slower
                if subset.size:
                    handler(context, today, subset)
        self._end_of_day()
        # every day, warm-up included: mesa.batch_run reads row `model.steps - 1`
        self.datacollector.collect(self)
        self.day += 1
        if self.day >= self.total_days:
            self.running = False

    def _end_of_day(self) -> None:
        rec, net, sf = self.recorder, self.network, self.salesforce
        inv = self.spec.inventory
        net.update_forecast(inv.forecast_smoothing)
        if self.day % inv.order_every_days == 0:
            if self.levers.stock_pool.any():
                rec.add("transfers", net.rebalance(self.levers.stock_pool > 0))
            net.order(self.day, self.levers, self.streams)
        stock = net.stock_total()
        nev = self.catalogue.is_nev
        rec.set("stock_ICE", stock[:, ~nev].sum())
        rec.set("stock_NEV", stock[:, nev].sum())
        rec.set("stock_focal", stock[net.focal].sum())
        rec.set("open_stores", (net.is_open * net.relative_weight()).sum())  # in built-agent equivalents
        value = (stock * self.list_price).sum(axis=1)
        financing = value * (net.financing_rate + self.levers.financing_rate_add)
        fixed = net.fixed_cost_month * net.is_open * self.store_scale
        rec.add("financing_cost", financing.sum() / 365.0)
        rec.add("salary_cost", sf.headcount() * self.spec.salesforce.salary_month / DAYS_PER_MONTH)
        rec.add("fixed_cost", fixed.sum() / DAYS_PER_MONTH)
        focal_staff = sf.headcount(net.focal[sf.dealer])
        rec.add(
            "focal_operating_cost",
            financing[net.focal].sum() / 365.0 + (fixed[net.focal].sum() + focal_staff * self.spec.salesforce.salary_month) / DAYS_PER_MONTH,
        )
        if (self.date + timedelta(days=1)).day == 1:
            leavers, hires = sf.month_end(self.day)
            rec.add("leavers", leavers)
            rec.add("hires", hires)
        rec.set("headcount", sf.headcount())
        rec.set("positions", sf.positions(net.is_open[sf.dealer]))
        state = self.population.state
        out = np.count_nonzero(state == State.OUT.value) + np.count_nonzero(state == State.OWNER.value)  # .value: see step()
        rec.set("in_market", self.population.n - out)
        self.timeline.end_of_day()

    def update_word_of_mouth(self, products: np.ndarray, satisfaction: np.ndarray) -> None:
        """Move each product's word of mouth towards its new owners' satisfaction (2% per owner)."""
        n = np.bincount(products, minlength=len(self.wom))
        total = np.bincount(products, weights=satisfaction, minlength=len(self.wom))
        has = n > 0
        weight = 1.0 - 0.98 ** n[has]
        self.wom[has] = (1 - weight) * self.wom[has] + weight * total[has] / n[has]

    def run_model(self, progress: bool = False) -> None:
        """Run to the end of the horizon, optionally with a progress bar."""
        remaining = self.total_days - self.day
        if progress:
            from tqdm.auto import tqdm

            with tqdm(total=remaining, unit="day", desc=self.spec.name) as bar:
                while self.running and self.day < self.total_days:
                    self.step()
                    bar.update(1)
        else:
            while self.running and self.day < self.total_days:
                self.step()

    # --- snapshots -----------------------------------------------------------------------

    def snapshot(self, path: str | Path) -> Path:
        """Save the complete state (see `simsales.snapshots` for the format); `restore` continues it."""
        from simsales.snapshots import save_snapshot

        return save_snapshot(self, path)

    @classmethod
    def restore(cls, path: str | Path) -> MarketModel:
        """A model saved by `snapshot`, continuing bit-identically from the day it was saved."""
        from simsales.snapshots import load_snapshot

        model = load_snapshot(path)
        if not isinstance(model, cls):
            raise TypeError(f"{path}: holds a {type(model).__name__}, not a {cls.__name__}")
        return model

    # --- outputs -------------------------------------------------------------------------

    def kpis(self) -> dict[str, float]:
        """The 2023 statistics this run reproduces, keyed by statistics ids (see `simsales.kpis`)."""
        from simsales.kpis import compute_kpis

        return compute_kpis(self)

    @property
    def salespeople(self) -> mesa.agent.AgentSet:
        """All salespeople currently employed."""
        return self.agents_by_type.get(Salesperson, mesa.agent.AgentSet([], random=self.random))
