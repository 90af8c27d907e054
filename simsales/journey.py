"""The buyer's journey as vectorised submodels over the consumers whose event falls today.

Each handler takes the journey's context (`JourneyContext`: parameters, entities, streams,
recorder, levers: the same objects for the model's life), today's market (`MarketDay`: the day,
its prices, trends and store-choice weights) and the indices of consumers in one state whose
next event is today.  It draws what it needs in one batch from `ctx.streams` (random numbers
keyed by consumer, purpose and day, so a consumer an event does not touch draws the same
numbers with or without it), and moves them to their next state with a new event day.  No
Python loop runs over consumers.

Why two explicit objects and not the model: a handler's signature says what it can read and
change, and the journey can be run and tested on any context and day
(`MarketModel.journey_context`, `MarketModel.market_day()`) without reaching into the model.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from simsales.agents.consumers import PRICE_UNIT_YUAN, State
from simsales.market.adoption import capped_premium
from simsales.market.choice import choose_by_weights, inclusive_value, nest_terms, nested_logit_choice, price_response
from simsales.scenario.schema import AGE_BANDS, TIERS
from simsales.streams import Purpose

if TYPE_CHECKING:
    from simsales.agents.consumers import ConsumerPopulation
    from simsales.agents.dealers import Network
    from simsales.agents.salespeople import Salesforce
    from simsales.levers import Levers
    from simsales.market.anticipation import Anticipation
    from simsales.market.catalogue import Catalogue
    from simsales.market.policy import PolicyState
    from simsales.recorder import Recorder
    from simsales.scenario import Scenario
    from simsales.streams import Streams

#: Entry times are drawn at this multiple of the base hazard and thinned, so that demand
#: shocks up to this factor change entry rates exactly without redrawing anyone's time.
MAX_DEMAND_MULTIPLIER = 1.5
LOWER = TIERS.index("lower")
BANDS_25_35 = (AGE_BANDS.index("25_28"), AGE_BANDS.index("29_35"))
BANDS_GENZ = (AGE_BANDS.index("under25"), AGE_BANDS.index("25_28"))


# --- what the journey reads ----------------------------------------------------------------------


@dataclass
class StoreCellCache:
    """The store-choice tables last built (`store_cells`), kept while their inputs stand.

    The one mutable part of the journey's context: the tables depend only on the stores' weights
    and the loyalty lever, so every store choice of a day (and of the days after, until a store
    opens or the lever moves) uses one build.
    """

    cells: StoreCells | None = None

    def get(self, dealer_weights: np.ndarray, loyalty_shift: np.ndarray) -> StoreCells | None:
        """The tables if they were built from this `dealer_weights` array and an equal loyalty shift, else None."""
        cells = self.cells
        if cells is not None and cells.source is dealer_weights and np.array_equal(cells.loyalty_shift, loyalty_shift):
            return cells
        return None


@dataclass(frozen=True)
class JourneyContext:
    """What the journey reads that stays the same object for the model's life.

    Each field is the `MarketModel` attribute of the same name.  The model builds the context
    once and again whenever one of those attributes is reassigned (a warm start continuing as
    another scenario replaces `spec` and `anticipation`; a test may replace `streams`), so it never
    holds a replaced object (`MarketModel.journey_context`).  The objects themselves change in place
    during a run (consumers and stores change state, events set levers and policy), which the
    journey sees.  Only `store_cell_cache` is the journey's own.
    """

    spec: Scenario
    catalogue: Catalogue
    population: ConsumerPopulation
    network: Network
    salesforce: Salesforce
    streams: Streams
    recorder: Recorder
    levers: Levers
    policy: PolicyState
    anticipation: Anticipation
    store_cell: np.ndarray  # store cell (format x dealer group) of each store
    entry_rate_table: np.ndarray  # yearly market-entry rate by `ConsumerPopulation.entry_class`
    #: how new owners' satisfaction moves word of mouth (`MarketModel.update_word_of_mouth`, bound:
    #: a subclass that overrides it changes the journey's word of mouth)
    update_word_of_mouth: Callable[[np.ndarray, np.ndarray], None]
    store_cell_cache: StoreCellCache = field(default_factory=StoreCellCache, init=False, repr=False, compare=False)


@dataclass(frozen=True)
class MarketDay:
    """Today's market as the journey sees it: the day, and the prices, trends and weights set at its start.

    Built by `MarketModel.market_day()` after the start of the day (events, stock, prices,
    trends) from references to the model's arrays, not copies, so building it every day costs
    nothing of note.  The model replaces these arrays rather than changing them in place, except
    `wom`, which today's deliveries move (`JourneyContext.update_word_of_mouth`).
    """

    day: int  # days since the first warm-up day
    list_price: np.ndarray  # store x product: manufacturer list price at the store (yuan)
    net_price: np.ndarray  # store x product: after the store's discount, plus purchase tax
    trade_in_subsidy: np.ndarray  # per product, for an eligible owner trading in (yuan)
    store_prices: np.ndarray  # price list x product: the distinct store-cell price lists store choice sees
    store_sells: np.ndarray  # price list x product: what the cells of each list sell
    cell_price_row: np.ndarray  # price list (row of `store_prices`) of each store cell
    dealer_weights: np.ndarray  # tier x store: store-choice base weights (replaced when a store opens)
    wom: np.ndarray  # per product: word of mouth (recent owners' mean satisfaction)
    trend_wtp: np.ndarray  # per product: NEV taste shift of its powertrain
    trend_demand: float  # secular market-entry growth factor
    log_season: float  # log of today's month's seasonal purchase factor


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _logit(p: float) -> float:
    p = min(max(p, 1e-9), 1 - 1e-9)
    return float(np.log(p / (1 - p)))


def _schedule(ctx: JourneyContext, today: MarketDay, idx: np.ndarray, state: State, delay_days: np.ndarray | float) -> None:
    """Put consumers in `state` with their next event `delay_days` from today (at least one day)."""
    pop = ctx.population
    pop.state[idx] = state
    pop.next_day[idx] = today.day + 1 + np.floor(np.clip(delay_days, 0, pop.no_day - today.day - 2)).astype(np.int32)


# --- market entry ------------------------------------------------------------------------------


def schedule_entry(ctx: JourneyContext, today: MarketDay, idx: np.ndarray) -> None:
    """Draw when consumers not in the market next consider entering (candidate times, thinned later)."""
    pop = ctx.population
    rate_year = ctx.entry_rate_table[pop.entry_class[idx]]
    sim_owner = pop.state[idx] == State.OWNER.value
    rate_year = np.where(sim_owner, 1.0 / ctx.spec.ownership.replacement_years, rate_year)
    wait = ctx.streams.exponential(Purpose.ENTRY_WAIT, idx, today.day) * 365.0 / (rate_year * MAX_DEMAND_MULTIPLIER)
    pop.next_day[idx] = today.day + 1 + np.minimum(wait, pop.no_day - today.day - 2).astype(np.int32)


def enter_market(ctx: JourneyContext, today: MarketDay, idx: np.ndarray) -> None:
    """Candidate entrants: accept by the current demand multiplier; researchers go online, others walk in."""
    pop, rec = ctx.population, ctx.recorder
    u = ctx.streams.uniform(Purpose.ENTRY_ACCEPT, idx, today.day)
    demand = ctx.levers.per_tier("demand_multiplier")[pop.tier[idx]] * _entry_pull(ctx, today, idx)
    accept = pop.referred[idx] | (u < demand * today.trend_demand / MAX_DEMAND_MULTIPLIER)
    schedule_entry(ctx, today, idx[~accept])
    idx = idx[accept]
    if len(idx) == 0:
        return
    rec.add("entries", len(idx))
    rec.add("entries_referred", pop.referred[idx].sum())
    pop.entry_day[idx] = today.day
    pop.first_lead_day[idx] = -1
    pop.visits[idx] = 0
    pop.visits_here[idx] = 0
    pop.td_here[idx] = False
    pop.td_any[idx] = False
    pop.online_lead[idx] = False
    pop.info_lost[idx] = False
    pop.dealer[idx] = -1
    pop.product[idx] = -1
    pop.satisfaction[idx] = np.nan
    pop.log(idx, today.day, "enter market")
    online = pop.online[idx]
    researchers = idx[online]
    rec.add("entries_online", len(researchers))
    j = ctx.spec.journey
    shape = j.research_days_shape
    research = ctx.streams.gamma(Purpose.RESEARCH_DAYS, researchers, today.day, shape, j.research_days / shape)
    _schedule(ctx, today, researchers, State.RESEARCH, research / _hurry(ctx, today, researchers))
    walkers = idx[~online]
    go_to_store(ctx, today, walkers, choose_dealer(ctx, today, walkers))


def finish_research(ctx: JourneyContext, today: MarketDay, idx: np.ndarray) -> None:
    """After online research: defer, or pick a store and either send online leads or walk in."""
    pop, rec, j = ctx.population, ctx.recorder, ctx.spec.journey
    streams, day = ctx.streams, today.day
    rec.add("research_done", len(idx))
    rec.add("research_days_sum", (day - pop.entry_day[idx]).sum())
    u = streams.uniform(Purpose.RESEARCH_OUTCOME, idx, day)
    drop = u < j.research_dropout
    rec.add("research_dropouts", drop.sum())
    # a better online showroom (online_lead_factor f of the favourite store) captures a lead f
    # times as often per session: a researcher needs 1/f of the sessions, and leaves a lead with
    # probability 1 - (1 - p)^f (p itself when f = 1)
    favourite = choose_dealer(ctx, today, idx)
    factor = ctx.levers.online_lead_factor[favourite]
    sessions = np.zeros(len(idx), dtype=np.int64)
    for f in np.unique(factor):
        rows = factor == f
        sessions[rows] = streams.poisson(Purpose.SHOWROOM_SESSIONS, idx[rows], day, j.showroom_sessions / f)
    rec.add("showroom_sessions", sessions.sum())
    leave_market(ctx, today, idx[drop], "defer after research")
    idx, u = idx[~drop], (u[~drop] - j.research_dropout) / max(1.0 - j.research_dropout, 1e-12)
    f, dealers = factor[~drop], favourite[~drop]
    p_lead = np.where(f == 1.0, j.online_lead_prob, 1.0 - (1.0 - j.online_lead_prob) ** f)
    lead = u < p_lead
    send_online_leads(ctx, today, idx[lead], dealers[lead])
    go_to_store(ctx, today, idx[~lead], dealers[~lead])


def send_online_leads(ctx: JourneyContext, today: MarketDay, idx: np.ndarray, favourite: np.ndarray) -> None:
    """Submit an inquiry to the favourite store and to a few others; wait for the favourite's answer."""
    pop, rec, j = ctx.population, ctx.recorder, ctx.spec.journey
    if len(idx) == 0:
        return
    extra = ctx.streams.poisson(Purpose.EXTRA_LEADS, idx, today.day, j.extra_online_leads)
    repeated = np.repeat(idx, extra)
    # the k-th extra store of a consumer draws from its own sub-stream k
    nth = np.arange(len(repeated)) - np.repeat(np.cumsum(extra) - extra, extra)
    others = choose_dealer(ctx, today, repeated, exclude=np.repeat(favourite, extra), purpose=Purpose.EXTRA_LEAD_STORE, sub=nth)
    all_dealers = np.concatenate([favourite, others])
    rec.add("online_leads", len(all_dealers))
    _count_leads(ctx, today, all_dealers, online=True)
    pop.dealer[idx] = favourite
    pop.online_lead[idx] = True
    pop.first_lead_day[idx] = today.day
    pop.log(idx, today.day, "online lead")
    _schedule(ctx, today, idx, State.LEAD, 0)


def _count_leads(ctx: JourneyContext, today: MarketDay, dealers: np.ndarray, online: bool) -> None:
    rec, net = ctx.recorder, ctx.network
    rec.add("acquisition_cost", net.acquisition_per_lead[dealers].sum())
    rec.add("focal_operating_cost", net.acquisition_per_lead[dealers][net.focal[dealers]].sum())
    rec.per_dealer(rec.dealer_leads, dealers)
    rec.add_to_dealer_cohorts("leads", np.full(len(dealers), today.day), dealers)
    if online:
        rec.per_dealer(rec.dealer_online_leads, dealers)


def contact_leads(ctx: JourneyContext, today: MarketDay, idx: np.ndarray) -> None:
    """The favourite store answers the online lead, or the lead goes cold and the consumer moves on."""
    pop, j, net = ctx.population, ctx.spec.journey, ctx.network
    d = pop.dealer[idx]
    lev = ctx.levers
    minutes = net.response_minutes[d] * lev.response_factor[d]
    p_cold = j.cold_lead_floor + (1 - j.cold_lead_floor) * (1 - np.exp(-minutes / j.response_tau_minutes))
    ai = lev.ai_handled_share[d]
    if ai.any():  # an AI agent answers a share of leads within its own response time
        p_ai = j.cold_lead_floor + (1 - j.cold_lead_floor) * (1 - np.exp(-lev.ai_response_minutes[d] / j.response_tau_minutes))
        p_cold = (1 - ai) * p_cold + ai * p_ai
    u = ctx.streams.uniform(Purpose.LEAD_OUTCOME, idx, today.day)
    cold = u < p_cold
    ctx.recorder.add("leads_cold", cold.sum())
    pop.log(idx[cold], today.day, "lead went cold")
    # the inquiry reaches the store through the data platform whether or not it was answered in
    # time: a consumer whose lead went cold and who still visits the store asks again unless it did
    handover = np.minimum(net.info_handover[d] * lev.handover_factor[d], 1.0)
    if cold.any():
        ui = ctx.streams.uniform(Purpose.COLD_LEAD_INFO, idx[cold], today.day)
        pop.info_lost[idx[cold]] = ui >= handover[cold]
    after_no_order(ctx, today, idx[cold], (u[cold]) / np.maximum(p_cold[cold], 1e-12))
    warm = idx[~cold]
    uw = (u[~cold] - p_cold[~cold]) / np.maximum(1 - p_cold[~cold], 1e-12)
    pop.info_lost[warm] = uw >= handover[~cold]
    if lev.online_order_share.any():
        warm = decide_online(ctx, today, warm)
    _schedule(ctx, today, warm, State.VISIT, ctx.streams.exponential(Purpose.VISIT_DELAY, warm, today.day, j.visit_delay_days) / _hurry(ctx, today, warm))


def decide_online(ctx: JourneyContext, today: MarketDay, idx: np.ndarray) -> np.ndarray:
    """Online closed loop: a share of answered leads decide online (VR test drive, online order).

    Returns the rest, and those who decided online without ordering: they still visit the store,
    so ordering online adds a way to buy and never removes one."""
    pop, j, lev = ctx.population, ctx.spec.journey, ctx.levers
    d = pop.dealer[idx]
    share = lev.online_order_share[d]
    u = ctx.streams.uniform(Purpose.ONLINE_DECISION, idx, today.day, 2)
    online = u[:, 0] < share
    ids, d = idx[online], d[online]
    ctx.recorder.add("online_decisions", len(ids))
    pop.log(ids, today.day, "decides online")
    sp = ctx.salesforce.assign(d, u[online, 1])
    pop.salesperson[ids] = sp
    knowledge, _, _ = _salesperson_values(ctx, sp)
    penalty = (
        j.no_test_drive_penalty * (1.0 - lev.virtual_test_drive[d])
        + j.repeat_question_penalty * pop.info_lost[ids]
    )
    undecided = _decide(ctx, today, ids, knowledge, penalty, ctx.streams.uniform(Purpose.CHOICE, ids, today.day), then_visit=True)
    return np.sort(np.concatenate([idx[~online], undecided]))


def go_to_store(ctx: JourneyContext, today: MarketDay, idx: np.ndarray, dealers: np.ndarray) -> None:
    """Schedule a (first) visit to `dealers` as a walk-in."""
    pop = ctx.population
    pop.dealer[idx] = dealers
    pop.visits_here[idx] = 0
    pop.td_here[idx] = False
    pop.online_lead[idx] = False
    pop.info_lost[idx] = False
    delay = ctx.streams.exponential(Purpose.VISIT_DELAY, idx, today.day, ctx.spec.journey.visit_delay_days)
    _schedule(ctx, today, idx, State.VISIT, delay / _hurry(ctx, today, idx))


def choose_dealer(
    ctx: JourneyContext,
    today: MarketDay,
    idx: np.ndarray,
    exclude: np.ndarray | None = None,
    purpose: Purpose = Purpose.STORE_CHOICE,
    sub: np.ndarray | int = 0,
) -> np.ndarray:
    """Each consumer picks a store: own city tier first, the appeal of its cell's prices (format x group), loyalty and referrals.

    A store's weight is its tier weight (`dealer_weights`) times its cell's price appeal, times
    loyalty when the cell's group is the consumer's previous one; a referral restricts the
    choice to the referrer's group.  Every factor but the first is the same for all stores of a
    cell, so the choice is made in two exact stages: a cell by Gumbel-max over cell weights,
    then a store within it by the inverse CDF of its stores' weights (`store_cells`).  The cost
    is (consumers x cells) + (consumers x log stores), not consumers x stores, which grew with
    the square of the population (store agents scale with it).
    """
    pop, _net, j = ctx.population, ctx.network, ctx.spec.journey
    if len(idx) == 0:
        return np.empty(0, dtype=np.int64)
    cells = store_cells(ctx, today)
    tier = pop.tier[idx].astype(np.int64)
    prev = pop.prev_group[idx]
    loyal = (cells.group[None, :] == prev[:, None]) & (prev[:, None] >= 0)  # consumers x cells
    variant = np.where(loyal, 1, 0)
    weights = cells.total[tier[:, None], variant, np.arange(cells.n)[None, :]]
    logsums = _store_logsums(ctx, today, idx)
    # a store selling nothing (log-sum -inf) is never chosen, even when store choice ignores prices (weight 0)
    appeal = np.where(np.isneginf(logsums), 0.0, np.exp(j.store_logsum_weight * np.where(np.isneginf(logsums), 0.0, logsums)))
    weights *= appeal[:, today.cell_price_row[cells.cell]]
    u = ctx.streams.uniform(purpose, idx, today.day, 3, sub)
    referred = pop.referred[idx] & (pop.referral_group[idx] >= 0) & (u[:, 1] < j.referral_loyalty)
    if referred.any():
        in_group = cells.group[None, :] == pop.referral_group[idx][:, None]
        restricted = np.where(in_group, weights, 0.0)
        has = restricted.sum(axis=1) > 0
        weights[referred & has] = restricted[referred & has]
    rows = np.arange(len(idx))
    if exclude is not None:  # the store just left: its weight comes out of its cell
        ex_cell = cells.cell_of_dealer[exclude]
        ex_variant = variant[rows, ex_cell]
        ex_weight = cells.weight[tier, ex_variant, cells.position[exclude]]
        total = cells.total[tier, ex_variant, ex_cell]
        weights[rows, ex_cell] *= np.where(total > 0, np.maximum(total - ex_weight, 0.0) / np.where(total > 0, total, 1.0), 0.0)
        empty = weights.sum(axis=1) <= 0
        weights[empty] = cells.open_count[None, :]
    chosen = choose_by_weights(weights, u[:, 0])
    return cells.draw(tier, variant[rows, chosen], chosen, u[:, 2], exclude)


@dataclass(frozen=True)
class StoreCells:
    """Stores grouped by cell (format x dealer group) with per-tier cumulative weights, for two-stage choice.

    `weight[t, v, p]` is the weight of the store at sorted position p for a consumer of tier t,
    without (v = 0) or with (v = 1) loyalty to its group; `total[t, v, c]` sums a cell's stores.
    """

    source: np.ndarray  # the dealer_weights array these were built from (identity marks staleness)
    loyalty_shift: np.ndarray  # the levers' loyalty shift they include
    cell: np.ndarray  # store-cell id of each cell column
    group: np.ndarray  # dealer group of each cell column
    cell_of_dealer: np.ndarray  # cell column of each dealer
    order: np.ndarray  # dealers sorted by cell column
    position: np.ndarray  # sorted position of each dealer
    start: np.ndarray  # first sorted position of each cell column
    end: np.ndarray  # one past the last
    weight: np.ndarray  # (tiers, 2, dealers) in sorted order
    cumulative: np.ndarray  # (tiers, 2, dealers) running sums of `weight`
    total: np.ndarray  # (tiers, 2, cells)
    open_count: np.ndarray  # open stores per cell column

    @property
    def n(self) -> int:
        return len(self.cell)

    @functools.cached_property
    def lift(self) -> float:
        """Offset between the stacked running-sum rows (above any row's total)."""
        return float(self.cumulative[:, :, -1].max()) * 2.0 + 1.0

    @functools.cached_property
    def stacked(self) -> np.ndarray:
        """The running-sum rows (tier x loyalty) laid end to end, row r lifted by r x `lift`: one sorted array."""
        rows = self.cumulative.reshape(-1, self.cumulative.shape[2])
        return (rows + np.arange(len(rows))[:, None] * self.lift).ravel()

    def draw(self, tier: np.ndarray, variant: np.ndarray, column: np.ndarray, u: np.ndarray, exclude: np.ndarray | None) -> np.ndarray:
        """A store of each consumer's chosen cell column with probability proportional to its weight."""
        start, end = self.start[column], self.end[column]
        cum = self.cumulative

        def running(pos: np.ndarray) -> np.ndarray:  # running sum just before sorted position `pos`
            return np.where(pos > 0, cum[tier, variant, np.maximum(pos - 1, 0)], 0.0)

        before = running(start)
        mass = cum[tier, variant, end - 1] - before
        target = u * mass
        if exclude is not None:  # skip the excluded store's interval when it is in this cell
            p = self.position[exclude]
            inside = (p >= start) & (p < end)
            w = np.where(inside, self.weight[tier, variant, p], 0.0)
            target = u * np.maximum(mass - w, 0.0)
            below = running(p) - before
            target = np.where(inside & (target >= below), target + w, target)
        # one search in the (tier, loyalty) rows laid end to end, each row lifted above the last
        row = tier * 2 + variant
        n = self.cumulative.shape[2]
        pos = np.searchsorted(self.stacked, before + target + row * self.lift, side="right") - row * n
        return self.order[np.clip(pos, start, end - 1)]


def store_cells(ctx: JourneyContext, today: MarketDay) -> StoreCells:
    """The two-stage choice tables for today's store weights (rebuilt when `dealer_weights` is replaced)."""
    shift = ctx.levers.loyalty_shift
    cached = ctx.store_cell_cache.get(today.dealer_weights, shift)
    if cached is not None:
        return cached
    net, j = ctx.network, ctx.spec.journey
    ids, cell_of_dealer = np.unique(ctx.store_cell, return_inverse=True)
    order = np.argsort(cell_of_dealer, kind="stable")
    position = np.empty_like(order)
    position[order] = np.arange(len(order))
    counts = np.bincount(cell_of_dealer, minlength=len(ids))
    end = np.cumsum(counts)
    start = end - counts
    loyalty = np.exp(j.previous_group_loyalty + np.broadcast_to(shift, (net.n,)))  # per dealer
    base = today.dealer_weights[:, order]  # tiers x dealers, sorted by cell
    weight = np.stack([base, base * loyalty[order][None, :]], axis=1)  # tiers x 2 x dealers
    cumulative = np.cumsum(weight, axis=2)
    total = np.stack([np.add.reduceat(weight[:, v], start, axis=1) for v in (0, 1)], axis=1)
    group = net.group[order][start]
    open_count = np.bincount(cell_of_dealer, weights=net.is_open.astype(float), minlength=len(ids))
    cells = StoreCells(
        today.dealer_weights, np.array(shift, copy=True), ids, group, cell_of_dealer, order, position, start, end, weight, cumulative, total, open_count
    )
    ctx.store_cell_cache.cells = cells
    return cells


def _store_logsums(ctx: JourneyContext, today: MarketDay, idx: np.ndarray) -> np.ndarray:
    """Expected value (the product nest's scaled log-sum) of each store price list for each consumer, max-centred.

    Columns are the distinct store-cell price lists (`today.store_prices`, format x dealer group):
    a group's own price change moves only its own stores' appeal.
    """
    n_products = len(ctx.catalogue)
    sells = today.store_sells
    neutral = np.full(len(idx), 0.5)
    at_zero_price = _utility(ctx, today, idx, np.zeros((1, n_products)), neutral, np.zeros(len(idx)))
    utility = at_zero_price[:, None, :] - _price_weight(ctx, idx)[:, None, :] * today.store_prices[None, :, :]
    scale = ctx.spec.journey.product_nest_scale  # the store's value is its product nest's (scale x inclusive value)
    values = scale * inclusive_value(utility, sells[None, :, :], scale, axis=2)  # consumers x price lists
    values = np.where(sells.any(axis=1)[None, :], values, -np.inf)
    return values - values.max(axis=1, keepdims=True)


def leave_market(ctx: JourneyContext, today: MarketDay, idx: np.ndarray, reason: str) -> None:
    """Drop out or defer: back to not-in-market with a fresh entry time."""
    pop = ctx.population
    if len(idx) == 0:
        return
    ctx.recorder.add("drops", len(idx))
    pop.log(idx, today.day, reason)
    pop.state[idx] = np.where(pop.owns_sim_car[idx], State.OWNER, State.OUT)
    pop.dealer[idx] = -1
    pop.referred[idx] = False
    schedule_entry(ctx, today, idx)


def after_no_order(ctx: JourneyContext, today: MarketDay, idx: np.ndarray, u: np.ndarray) -> None:
    """Leaving a store without an order: come back, try another store, or leave the market."""
    pop, j = ctx.population, ctx.spec.journey
    if len(idx) == 0:
        return
    exhausted = pop.visits[idx] >= j.max_visits
    back = ~exhausted & (u < j.repeat_visit_prob)
    switch = ~exhausted & ~back & (u < j.repeat_visit_prob + j.switch_store_prob)
    drop = ~back & ~switch
    delay = ctx.streams.exponential(Purpose.VISIT_DELAY, idx[back], today.day, j.visit_delay_days)
    _schedule(ctx, today, idx[back], State.VISIT, delay / _hurry(ctx, today, idx[back]))
    movers = idx[switch]
    ctx.recorder.add("switches", len(movers))
    pop.log(movers, today.day, "try another store")
    go_to_store(ctx, today, movers, choose_dealer(ctx, today, movers, exclude=pop.dealer[movers]))
    leave_market(ctx, today, idx[drop], "leave market")


# --- in the store ------------------------------------------------------------------------------


def _salesperson_values(ctx: JourneyContext, sp: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Knowledge, volume weight and ramp of each slot in `sp` (-1: nobody, new-hire values)."""
    sf = ctx.salesforce
    spec = ctx.spec.salesforce
    lev = ctx.levers
    knowledge = np.append(np.minimum(sf.knowledge + lev.knowledge_boost[sf.dealer], 1.0), spec.new_hire_knowledge)[sp]
    volume = np.append(sf.volume_weight * lev.volume_weight_factor[sf.dealer], spec.volume_weight)[sp]
    ramp = np.append(sf.ramp(), 0.5)[sp]
    return knowledge, volume, ramp


def store_price(ctx: JourneyContext, today: MarketDay, idx: np.ndarray) -> np.ndarray:
    """Price of every product at each consumer's store after purchase tax, the store's trade-in premium and loan subsidy (yuan)."""
    pop, lev = ctx.population, ctx.levers
    d = pop.dealer[idx]
    price = today.net_price[d]
    if lev.trade_in_premium.any():  # the store pays more for the old car of an owner trading in
        price = price - (pop.owns_car[idx] * lev.trade_in_premium[d])[:, None]
    subsidy = ctx.network.buyer_subsidy[d]
    if subsidy.any():  # the store pays part of the loan: the buyer's effective price falls
        price = price - today.net_price[d] * subsidy
    return price


def product_utility(ctx: JourneyContext, today: MarketDay, idx: np.ndarray, knowledge: np.ndarray, penalty: np.ndarray, price: np.ndarray | None = None) -> np.ndarray:
    """Utility of every product at each consumer's store: appeal, price after policy, NEV taste, salesperson."""
    utility = _utility(ctx, today, idx, store_price(ctx, today, idx) if price is None else price, knowledge, penalty)
    if ctx.levers.store_utility_shift.any():
        utility += ctx.levers.store_utility_shift[ctx.population.dealer[idx]]
    return utility


def subsidy_eligible(ctx: JourneyContext, idx: np.ndarray) -> np.ndarray:
    """Consumers whose old car qualifies for the trade-in subsidy: owners, thinned by the eligible share.

    The thinning uses a fixed golden-ratio sequence over consumer ids, not random draws, so that
    changing eligibility never shifts anyone else's random numbers.
    """
    owns = ctx.population.owns_car[idx]
    share = ctx.levers.trade_in_eligible_share
    if share >= 1.0:
        return owns
    return owns & ((idx * 0.6180339887498949) % 1.0 < share)


def _price_weight(ctx: JourneyContext, idx: np.ndarray) -> np.ndarray:
    """Utility lost per yuan of net price (consumers x products): the consumer's price sensitivity.

    The same for every product: NEV taste enters as a willingness to pay (`_nev_premium_value`),
    not as a discount on price sensitivity, so an NEV's price coefficient is never weakened by
    taste and stays negative for every consumer on every day.
    """
    return np.broadcast_to(ctx.population.price_sens[idx, None] / PRICE_UNIT_YUAN, (len(idx), len(ctx.catalogue)))


def _nev_premium_value(ctx: JourneyContext, today: MarketDay, idx: np.ndarray) -> np.ndarray:
    """Utility of the NEV premium each consumer would pay (consumers x products; 0 for ICE).

    Willingness-to-pay form (Train & Weeks 2005): price sensitivity x premium share x the
    product's catalogue list price, where the premium (own taste plus the powertrain's
    adoption trend) passes the soft cap of `simsales.market.adoption`.
    """
    pop, cat = ctx.population, ctx.catalogue
    premium = capped_premium(pop.nev_wtp[idx, None] + today.trend_wtp, ctx.spec.population.nev_premium_max)
    return pop.price_sens[idx, None] / PRICE_UNIT_YUAN * premium * (cat.list_price * cat.is_nev)


# --- anticipation of announced policy changes (simsales.market.anticipation) ------------------------


def _expected_choice(ctx: JourneyContext, today: MarketDay, idx: np.ndarray) -> np.ndarray:
    """Each consumer's probabilities over all products at list price after tax, given a purchase (consumers x products; the nest's logit).

    What the consumer expects to buy, before any store: weights the saving each product would lose.
    """
    cat = ctx.catalogue
    price = (cat.list_price + ctx.policy.purchase_tax(cat, cat.list_price))[None, :]
    utility = _utility(ctx, today, idx, price, np.full(len(idx), 0.5), np.zeros(len(idx))) / ctx.spec.journey.product_nest_scale
    utility = np.exp(utility - utility.max(axis=1, keepdims=True))
    return utility / utility.sum(axis=1, keepdims=True)


def _urgency(ctx: JourneyContext, today: MarketDay, idx: np.ndarray) -> np.ndarray | float:
    """Utility each consumer loses by waiting past an announced policy price rise within the horizon (0 if none).

    Saving lost per product (tax rise, plus the subsidy's end for an eligible owner) times the
    consumer's price weight, averaged over the products the consumer expects to buy.  Only
    policy (purchase tax, trade-in subsidy) is announced: a list-price change is not foreseen.
    """
    ant = ctx.anticipation
    if not ant.any_loss[today.day] or len(idx) == 0:
        return 0.0
    loss = ant.tax_loss[today.day][None, :] + subsidy_eligible(ctx, idx)[:, None] * ant.subsidy_loss[today.day][None, :]
    return (_price_weight(ctx, idx) * loss * _expected_choice(ctx, today, idx)).sum(axis=1)


def _hurry(ctx: JourneyContext, today: MarketDay, idx: np.ndarray) -> np.ndarray | float:
    """Factor dividing the journey's delays: 1 + anticipation_weight x urgency (1 without an announced change)."""
    return 1.0 + ctx.spec.population.anticipation_weight * _urgency(ctx, today, idx)


def _entry_pull(ctx: JourneyContext, today: MarketDay, idx: np.ndarray) -> np.ndarray | float:
    """Market-entry multiplier: the pull of a trade-in subsidy the entrant can claim (1 without one).

    Acceptance is thinned from candidates drawn at MAX_DEMAND_MULTIPLIER x the base rate, so
    entry rises by this factor up to that ceiling.  An announced price rise does not pull new
    entrants: a journey takes longer than the anticipation horizon (research alone 45 days on
    average), so most would buy after the change; it hurries those already in the market.
    """
    ant, spec = ctx.anticipation, ctx.spec.population
    if not (ant.any_subsidy[today.day] and spec.subsidy_entry_pull > 0 and len(idx)):
        return 1.0
    value = (_price_weight(ctx, idx) * ant.subsidy[today.day][None, :] * _expected_choice(ctx, today, idx)).sum(axis=1)
    return 1.0 + spec.subsidy_entry_pull * subsidy_eligible(ctx, idx) * value


def _utility(ctx: JourneyContext, today: MarketDay, idx: np.ndarray, price: np.ndarray, knowledge: np.ndarray, penalty: np.ndarray) -> np.ndarray:
    """Utility of each product for each consumer at the given prices after tax (k x P or 1 x P)."""
    pop, cat, j = ctx.population, ctx.catalogue, ctx.spec.journey
    net_price = price - subsidy_eligible(ctx, idx)[:, None] * today.trade_in_subsidy[None, :]
    price_term = _price_weight(ctx, idx) * net_price
    nev_term = cat.is_nev * (j.knowledge_weight * (knowledge[:, None] - 0.5))
    wom_term = j.wom_weight * (today.wom - 80.0) / 10.0
    utility = cat.appeal + wom_term + nev_term + _nev_premium_value(ctx, today, idx) - price_term - penalty[:, None]
    if ctx.levers.utility_shift.any():  # tastes and local policy by the consumer's city tier
        utility = utility + ctx.levers.utility_shift[pop.tier[idx]]
    return utility


def _nobody_on_the_floor(ctx: JourneyContext) -> np.ndarray:
    """Per store agent, the chance that a visitor finds no salesperson free to serve.

    A store agent stands for a fraction (or many) of real stores, so the chance is that of a
    real store of its format and firm: the vacancy share of its dealer group, to the power of
    a real store's sales staff.  With normal vacancies it is nil (0.23^8); with every position
    empty (a hiring freeze and an exodus) it is 1.  Pooling over the group keeps a
    one-position store agent of a small run from being shut by one vacancy.
    """
    net, sf = ctx.network, ctx.salesforce
    groups = int(net.group.max()) + 1
    staffed = net.is_open[sf.dealer]  # a store not yet open has no vacancies
    positions = np.bincount(net.group[sf.dealer], weights=sf.weight * staffed, minlength=groups)
    filled = np.bincount(net.group[sf.dealer], weights=sf.weight * (sf.filled & staffed), minlength=groups)
    vacancy = 1.0 - filled / np.maximum(positions, 1)
    return vacancy[net.group] ** np.maximum(net.staff, 1.0)


def visit_store(ctx: JourneyContext, today: MarketDay, idx: np.ndarray) -> None:
    """A store visit: a salesperson serves, a test drive may follow, else the consumer decides on the spot."""
    pop, rec, net, j = ctx.population, ctx.recorder, ctx.network, ctx.spec.journey
    d = pop.dealer[idx]
    first = pop.visits_here[idx] == 0
    walk_in = first & ~pop.online_lead[idx]
    rec.add("walkin_leads", walk_in.sum())
    _count_leads(ctx, today, d[walk_in], online=False)
    no_lead_yet = pop.first_lead_day[idx] < 0
    pop.first_lead_day[idx[no_lead_yet]] = today.day
    rec.add("visits", len(idx))
    rec.add("store_visitors", first.sum())
    rec.add("online_lead_visits", (first & pop.online_lead[idx]).sum())
    rec.add("repeat_questions", (first & pop.info_lost[idx]).sum())
    pop.visits[idx] += 1
    pop.store_visit_day[idx[first]] = today.day
    pop.visits_here[idx] += 1
    u = ctx.streams.uniform(Purpose.VISIT, idx, today.day, 4)
    sp = ctx.salesforce.assign(d, u[:, 0])
    pop.salesperson[idx] = sp
    unserved = u[:, 3] < _nobody_on_the_floor(ctx)[d]
    if unserved.any():  # a store with nobody on its floor cannot serve or sell: come back, go elsewhere or leave
        rec.add("unserved_visits", unserved.sum())
        pop.log(idx[unserved], today.day, "nobody to serve: leaves the store")
        after_no_order(ctx, today, idx[unserved], u[unserved, 2])
        idx, d, sp, u = idx[~unserved], d[~unserved], sp[~unserved], u[~unserved]
    knowledge, volume, ramp = _salesperson_values(ctx, sp)
    capacity = np.append(ctx.salesforce.capacity, 1.0)[sp] * ramp
    load = np.bincount(sp + 1, minlength=ctx.salesforce.n_slots + 1)[sp + 1]
    overload = np.where(sp >= 0, np.maximum(load / capacity - 1.0, 0.0), 1.0)
    p_td = _sigmoid(j.test_drive_base + j.test_drive_push * (volume - 0.5) + j.test_drive_nev_knowledge * (knowledge - 0.5))
    td = ~pop.td_here[idx] & (u[:, 1] < p_td) & net.sells[d].any(axis=1)
    drivers = idx[td]
    rec.add("test_drives", len(drivers))
    rec.add_to_cohorts("visitor_test_drives", pop.store_visit_day[drivers])
    pop.td_day[drivers] = today.day
    pop.td_here[drivers] = True
    pop.td_any[drivers] = True
    pop.log(drivers, today.day, "test drive")
    delay = ctx.streams.exponential(Purpose.TEST_DRIVE_DELAY, drivers, today.day, j.decision_days)
    _schedule(ctx, today, drivers, State.TEST_DRIVE, delay / _hurry(ctx, today, drivers))
    rest = ~td
    penalty = (
        j.no_test_drive_penalty * ~pop.td_here[idx[rest]]
        + j.repeat_question_penalty * pop.info_lost[idx[rest]]
        + j.overload_penalty * overload[rest]
    )
    _decide(ctx, today, idx[rest], knowledge[rest], penalty, u[rest, 2])


def decide_after_test_drive(ctx: JourneyContext, today: MarketDay, idx: np.ndarray) -> None:
    """Some days after a test drive: order one of the store's products or not."""
    pop, j = ctx.population, ctx.spec.journey
    knowledge, _, _ = _salesperson_values(ctx, pop.salesperson[idx])
    penalty = j.repeat_question_penalty * pop.info_lost[idx]
    _decide(ctx, today, idx, knowledge, penalty, ctx.streams.uniform(Purpose.CHOICE, idx, today.day))


def _decide(ctx: JourneyContext, today: MarketDay, idx: np.ndarray, knowledge: np.ndarray, penalty: np.ndarray, u: np.ndarray, then_visit: bool = False) -> np.ndarray:
    """Nested logit choice among the store's products and leaving; buyers order, the rest move on (7.6)
    or, with `then_visit` (an online decision), are returned to visit the store."""
    pop, j = ctx.population, ctx.spec.journey
    if len(idx) == 0:
        return idx
    price = store_price(ctx, today, idx)
    utility = product_utility(ctx, today, idx, knowledge, penalty, price)
    d = pop.dealer[idx]
    available = ctx.network.sells[d]
    # the season multiplies the odds of buying rather than waiting (Spring Festival, year-end);
    # a foreseen policy price rise lowers the value of waiting (anticipation, 7.15)
    outside = j.outside_utility + ctx.levers.outside_utility_shift[d] - today.log_season - _urgency(ctx, today, idx)
    if j.quote_search_value:  # another quote is worth having only where prices are negotiated
        outside = outside + j.quote_search_value * ~ctx.network.direct[d]
    scale, recording = j.product_nest_scale, ctx.recorder.recording
    terms = nest_terms(utility, available, scale) if recording or scale < 1.0 else None  # shared by both below
    if recording:  # the choice model's own price response at this decision (ODD 7.5)
        ctx.recorder.add_price_response(*price_response(utility, available, outside, scale, _price_weight(ctx, idx) * price, terms))
    choice = nested_logit_choice(utility, available, outside, u, scale, terms)
    buy = choice >= 0
    place_orders(ctx, today, idx[buy], choice[buy].astype(np.int64))
    rest = idx[~buy]
    if then_visit:
        return rest
    after_no_order(ctx, today, rest, ctx.streams.uniform(Purpose.NO_ORDER, rest, today.day))
    return rest


def place_orders(ctx: JourneyContext, today: MarketDay, idx: np.ndarray, products: np.ndarray) -> None:
    """Orders: served first-in-first-out from store stock, else ordered from the factory (or cancelled)."""
    pop, rec, net, j = ctx.population, ctx.recorder, ctx.network, ctx.spec.journey
    cat, sf = ctx.catalogue, ctx.salesforce
    if len(idx) == 0:
        return
    d = pop.dealer[idx]
    n_products = len(cat)
    key = d * n_products + products
    demand = np.bincount(key, minlength=net.n * n_products).reshape(net.n, n_products)
    net.demand_today += demand
    # rank of each order within its dealer x product, to serve the first `stock` of them
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    group_start = np.searchsorted(sorted_key, sorted_key, side="left")
    rank = np.empty(len(idx), dtype=np.int64)
    rank[order] = np.arange(len(idx)) - group_start
    in_stock = rank < net.stock_total()[d, products]
    # a clearance discount goes with the aged units only: the first orders of the day take them (oldest first)
    full_price = rank >= net.clearance_units[d, products]
    served = np.bincount(key[in_stock], minlength=net.n * n_products).reshape(net.n, n_products)
    taken, age_sum = net.take(served)
    _record_stock_out(ctx, taken, age_sum)
    pooled = ~in_stock & (ctx.levers.stock_pool[d] > 0)
    if pooled.any():  # stores sharing stock serve each other's orders at once instead of backordering
        in_stock = in_stock | _serve_from_pool(ctx, products, pooled)
    u = ctx.streams.uniform(Purpose.ORDER, idx, today.day, 3)
    cancel = ~in_stock & (u[:, 0] < j.backorder_cancel_prob * ctx.levers.delay_cancel_factor[products])
    rec.add("backorders", (~in_stock).sum())
    rec.add("cancellations", cancel.sum())
    pop.log(idx[cancel], today.day, "cancel: not in stock")
    after_no_order(ctx, today, idx[cancel], u[cancel, 1])
    keep = ~cancel
    idx, d, products, in_stock, u, full_price = idx[keep], d[keep], products[keep], in_stock[keep], u[keep], full_price[keep]
    factory = ~in_stock
    # factory orders arrive and leave stock at once: they are arrivals and stock outflows
    factory_units = np.bincount(
        (d * n_products + products)[factory], minlength=net.n * n_products
    ).reshape(net.n, n_products)
    rec.add("arrivals", factory_units.sum())
    _record_stock_out(ctx, factory_units, np.zeros_like(age_sum))
    rec.add("orders", len(idx))
    rec.per_product("orders", products)
    rec.add("orders_after_td", pop.td_here[idx].sum())  # orders at a store where the buyer test-drove
    rec.add_to_cohorts("test_drive_orders", pop.td_day[idx[pop.td_here[idx]]])
    rec.add_to_cohorts("lead_orders", pop.first_lead_day[idx])
    # the lead this store counted: the online lead it was sent, else the buyer's first walk-in visit
    store_lead_day = np.where(pop.online_lead[idx], pop.first_lead_day[idx], pop.store_visit_day[idx])
    rec.add_to_dealer_cohorts("lead_orders", store_lead_day, d)
    rec.add("focal_orders", net.focal[d].sum())
    rec.per_dealer(rec.dealer_orders, d)
    rec.per_dealer(rec.dealer_online_orders, d[pop.online_lead[idx]])
    sp = pop.salesperson[idx]
    if rec.recording:
        np.add.at(sf.units_sold, sp[sp >= 0], 1)
    rec.add("commission_cost", len(idx) * ctx.spec.salesforce.commission_per_unit)
    rec.add("focal_operating_cost", net.focal[d].sum() * ctx.spec.salesforce.commission_per_unit)
    knowledge, volume, _ = _salesperson_values(ctx, sp)
    o = ctx.spec.ownership
    pop.misdescribed[idx] = u[:, 1] < np.clip(o.misdescribe_base * volume * (1.0 - knowledge), 0, 1)
    explain = u[:, 2] < o.winter_explain_knowledge * knowledge
    pop.winter_unaware[idx] = cat.is_nev[products] & ~explain
    list_price = today.list_price[d, products]
    discount = net.discount[d, products] - net.clearance_off[d, products] * full_price
    price = list_price * (1.0 - discount)
    pop.price_paid[idx] = price
    margin = list_price * (net.margin[d] - discount)
    rec.add("gross_margin", margin.sum())
    rec.add("focal_gross_margin", margin[net.focal[d]].sum())
    if today.trade_in_subsidy.any():
        eligible = subsidy_eligible(ctx, idx)
        rec.add("trade_in_subsidies", (eligible * today.trade_in_subsidy[products]).sum())
    if ctx.levers.trade_in_premium.any():
        rec.add("strategy_cost", (pop.owns_car[idx] * ctx.levers.trade_in_premium[d]).sum())
    subsidy = net.buyer_subsidy[d, products]
    if subsidy.any():  # booked as a strategy or risk-plan cost by the timeline
        rec.add("financing_subsidies", (today.net_price[d, products] * subsidy).sum())
    pop.product[idx] = products
    pop.order_day[idx] = today.day
    wait = np.where(in_stock, j.delivery_days, j.delivery_days + net.replenish_days[d] * ctx.levers.delivery_delay_factor[products])
    pop.promised_day[idx] = today.day + round(j.delivery_days)
    pop.log(idx, today.day, "order")
    _schedule(ctx, today, idx, State.ORDERED, wait)


def _serve_from_pool(ctx: JourneyContext, products: np.ndarray, want: np.ndarray) -> np.ndarray:
    """Orders (`want`) a pooled store cannot serve from its own stock, served from the pooled open
    stores holding most of the product (a transfer, oldest units first); returns which were served."""
    net = ctx.network
    pool = (ctx.levers.stock_pool > 0) & net.is_open
    stock = net.stock_total()
    units = np.zeros(stock.shape, dtype=np.int64)
    served = np.zeros(len(products), dtype=bool)
    for p in np.unique(products[want]):
        rows = np.flatnonzero(want & (products == p))
        avail = np.where(pool, stock[:, p], 0).astype(np.int64)
        n = int(min(len(rows), avail.sum()))
        if n == 0:
            continue
        donors = np.argsort(-avail, kind="stable")
        units[:, p] = np.bincount(np.repeat(donors, avail[donors])[:n], minlength=net.n)
        served[rows[:n]] = True
    if served.any():
        taken, age_sum = net.take(units)
        _record_stock_out(ctx, taken, age_sum)
        ctx.recorder.add("transfers", taken.sum())
    return served


def _record_stock_out(ctx: JourneyContext, units: np.ndarray, age_sum: np.ndarray) -> None:
    nev = ctx.catalogue.is_nev
    rec = ctx.recorder
    rec.add("stock_out_focal", units[ctx.network.focal].sum())
    rec.add("stock_out_NEV", units[:, nev].sum())
    rec.add("stock_out_ICE", units[:, ~nev].sum())
    rec.add("stock_age_sum_NEV", age_sum[:, nev].sum())
    rec.add("stock_age_sum_ICE", age_sum[:, ~nev].sum())


# --- delivery and ownership --------------------------------------------------------------------


def deliver(ctx: JourneyContext, today: MarketDay, idx: np.ndarray) -> None:
    """Delivery: the sale is registered and satisfaction forms from what was told versus what is got."""
    pop, rec, net, cat, o = ctx.population, ctx.recorder, ctx.network, ctx.catalogue, ctx.spec.ownership
    d, p = pop.dealer[idx], pop.product[idx].astype(np.int64)
    pt = cat.powertrain[p]
    rec.add("deliveries", len(idx))
    for k, name in enumerate(("BEV", "PHEV", "ICE")):
        rec.add(f"deliveries_{name}", (pt == k).sum())
    rec.add("deliveries_domestic", cat.is_domestic[p].sum())
    rec.add("deliveries_lower_tier", (pop.tier[idx] == LOWER).sum())
    rec.add("deliveries_focal", net.focal[d].sum())
    rec.add("deliveries_focal_NEV", (net.focal[d] & cat.is_nev[p]).sum())
    rec.add("deliveries_trade_in", pop.owns_car[idx].sum())
    rec.add("deliveries_referred", pop.referred[idx].sum())
    rec.add("deliveries_25_35", np.isin(pop.age_band[idx], BANDS_25_35).sum())
    rec.add("deliveries_genz", np.isin(pop.age_band[idx], BANDS_GENZ).sum())
    rec.add("revenue", pop.price_paid[idx].sum())
    rec.per_product("deliveries", p)
    rec.per_product("revenue", p, pop.price_paid[idx])
    rec.add("focal_revenue", pop.price_paid[idx][net.focal[d]].sum())
    rec.add("nev_revenue", pop.price_paid[idx][cat.is_nev[p]].sum())
    rec.add("buyer_visits_sum", pop.visits[idx].sum())
    rec.add("cycle_days_sum", (today.day - pop.first_lead_day[idx]).sum())
    rec.per_dealer(rec.dealer_deliveries, d)
    known = pop.prev_group[idx] >= 0
    rec.add("repurchase_known", known.sum())
    rec.add("repurchase_same", (known & (pop.prev_group[idx] == net.group[d])).sum())
    late_weeks = np.maximum(today.day - pop.promised_day[idx], 0) / 7.0
    repair_wait = o.repair_wait_days * ctx.levers.repair_wait_factor[d]
    nev = cat.is_nev[p]
    sat = (
        o.base_satisfaction
        + o.satisfaction_sd * ctx.streams.normal(Purpose.SATISFACTION, idx, today.day)
        - o.misdescribe_penalty * pop.misdescribed[idx]
        - o.winter_penalty * cat.winter_range_loss[p] * pop.winter_unaware[idx]
        - o.repeat_question_penalty * pop.info_lost[idx]
        - o.delay_penalty_per_week * late_weeks
        - o.repair_wait_penalty * repair_wait
    )
    sat = np.clip(sat, 0.0, 100.0)
    pop.satisfaction[idx] = sat
    rec.add("misdescribed", pop.misdescribed[idx].sum())
    rec.add("winter_unaware", (pop.winter_unaware[idx] & nev).sum())
    rec.add("satisfaction_sum", sat.sum())
    rec.add("very_satisfied", (sat >= o.very_satisfied_at).sum())
    rec.add("promoters", (sat >= o.promoter_at).sum())
    rec.add("detractors", (sat < o.detractor_below).sum())
    ctx.update_word_of_mouth(p, sat)
    pop.owns_car[idx] = True
    pop.owns_sim_car[idx] = True
    pop.prev_group[idx] = net.group[d]
    pop.referred[idx] = False
    pop.first_service_done[idx] = False
    pop.log(idx, today.day, "delivery")
    _schedule(ctx, today, idx, State.OWNER, o.first_service_days - 1)


def owner_event(ctx: JourneyContext, today: MarketDay, idx: np.ndarray) -> None:
    """Owners: at first service, complain, churn or refer; later, re-enter the market to replace the car."""
    pop = ctx.population
    replacing = pop.first_service_done[idx]
    enter_market(ctx, today, idx[replacing])
    first_service(ctx, today, idx[~replacing])


def first_service(ctx: JourneyContext, today: MarketDay, idx: np.ndarray) -> None:
    """Satisfaction turns into complaints, loss of the customer, and referrals of new buyers."""
    pop, rec, o = ctx.population, ctx.recorder, ctx.spec.ownership
    if len(idx) == 0:
        return
    sat = pop.satisfaction[idx].astype(float)
    u = ctx.streams.uniform(Purpose.FIRST_SERVICE, idx, today.day, 3)
    complain = u[:, 0] < _sigmoid(_logit(o.complaint_base) + o.complaint_slope * (80.0 - sat))
    seller = pop.dealer[idx]  # still the store that sold the car (-1: none)
    churn_factor = np.append(ctx.levers.churn_factor, 1.0)[seller]
    referral_factor = np.append(ctx.levers.referral_factor, 1.0)[seller]
    churn = u[:, 1] < _sigmoid(_logit(o.churn_base) - o.churn_slope * (sat - 80.0)) * churn_factor
    refer = u[:, 2] < _sigmoid(_logit(o.referral_base) + o.referral_slope * (sat - 80.0)) * referral_factor
    rec.add("first_services", len(idx))
    rec.add("complaints", complain.sum())
    rec.add("churned", churn.sum())
    pop.log(idx[complain], today.day, "complaint")
    pop.log(idx[churn], today.day, "lost as a customer")
    referrers = idx[refer]
    groups = pop.prev_group[referrers]
    pop.prev_group[idx[churn]] = -1
    pop.first_service_done[idx] = True
    schedule_entry(ctx, today, idx)
    refer_new_buyers(ctx, today, referrers, groups)


def refer_new_buyers(ctx: JourneyContext, today: MarketDay, referrers: np.ndarray, groups: np.ndarray) -> None:
    """Each referrer brings one consumer not in the market into it within two weeks."""
    pop = ctx.population
    if len(referrers) == 0:
        return
    candidates = ctx.streams.integers(Purpose.REFERRAL_TARGET, referrers, today.day, pop.n)
    ok = pop.state[candidates] == State.OUT.value
    candidates, first = np.unique(candidates[ok], return_index=True)
    groups = groups[ok][first]
    ctx.recorder.add("referrals", len(candidates))
    pop.referred[candidates] = True
    pop.referral_group[candidates] = groups
    pop.log(candidates, today.day, "referred by an owner")
    pop.next_day[candidates] = today.day + 1 + ctx.streams.integers(Purpose.REFERRAL_DELAY, candidates, today.day, 14).astype(np.int32)
