"""Upper bounds of scenario values: the largest numbers the model can represent and still compute right.

Every numeric field of a scenario (and of every shock, strategy and risk rule) carries a range in
its field metadata; the bounds named here are the shared ones, chosen from what the model holds:

* dates stay inside the calendar (`datetime.date` ends at 9999-12-31) and a run fits in memory;
* day counts drawn by the journey are cast to 32-bit integers, so mean durations stay far below
  2**31 days even after a shock multiplies them;
* stock is counted in 32-bit integers, so multipliers of stock targets stay modest;
* money is summed in 64-bit floats over millions of agent-days and scaled to the real
  population, so yuan amounts stay far below the float range (no inf, no cancellation);
* utilities enter `exp()` in logit choices, so utility weights stay well inside its range.

`check_sizes` adds the cross-field checks a single range cannot express (a horizon inside the
calendar, a demand trend that stays finite over the horizon, a network of a size the model can
build).
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any

from simsales.scenario.errors import ScenarioError

#: Longest recorded horizon or warm-up, days (100 years).
MAX_HORIZON_DAYS = 36_500
#: Earliest and latest start date: the horizon then stays inside the calendar with room to spare.
MIN_START_DATE = date(1900, 1, 1)
MAX_START_DATE = date(2200, 12, 31)
#: Longest mean duration of one journey or service step, days (10 years).
MAX_STEP_DAYS = 3_650.0
#: Longest replenishment lead time, days: below the stock pipeline's ring buffer (`agents.dealers.PIPELINE_DAYS`).
MAX_REPLENISH_DAYS = 255
#: Largest total discount off list price a store gives (`agents.dealers.MAX_DISCOUNT`).
MAX_DISCOUNT = 0.9
#: Longest mean response time, minutes (one year).
MAX_MINUTES = 525_600.0
#: Largest multiplier of a rate, duration or stock target (x100).
MAX_FACTOR = 100.0
#: Largest multiplier of a store's stock target (manufacturer push); stock is counted in int32.
MAX_PUSH = 20.0
#: Largest magnitude of a utility weight, shift or constant: a sum of a few of them stays far below
#: exp()'s float64 limit (709), and +-100 still forces any choice in tests.
MAX_UTILITY = 100.0
#: Largest money amount per car, per store or per month, yuan (100 million yuan).
MAX_YUAN = 1e8
#: Largest real-money total (set-up cost, running cost per month, a subsidy budget), yuan (10 trillion).
MAX_TOTAL_YUAN = 1e13
#: Largest consumer agent count a scenario may ask for (memory is checked separately by `validate`).
MAX_CONSUMERS = 100_000_000
#: Largest real population a scenario may stand for (people on Earth, with room).
MAX_REAL_POPULATION = 1e10
#: Largest number of dealer agents a network may have.
MAX_DEALER_AGENTS = 1_000_000
#: Most further stores an online researcher sends the same inquiry to, on average (each is a lead
#: the model tracks; far more stores than a city has would only slow a run down).
MAX_EXTRA_LEADS = 50.0
#: Most sales staff of one store and most stores one opening adds (each is a Mesa agent / a stock array).
MAX_STAFF = 1_000
#: Largest count of small things (salespeople per store, dealer groups, store visits, month counts).
MAX_COUNT = 100_000
#: Largest rate per household and year (market entries).
MAX_RATE_PER_YEAR = 100.0
#: Satisfaction points are on a 0-100 scale.
MAX_POINTS = 100.0
#: Largest log-odds slope per satisfaction point.
MAX_SLOPE = 10.0
#: Largest seed (numpy accepts any non-negative integer; TOML integers are 64-bit).
MAX_SEED = 2**63 - 1
#: The demand trend's factor (1 + trend) ** years may not fall below this anywhere in the horizon
#: (above, `simsales.journey.MAX_DEMAND_MULTIPLIER` caps it: entry is thinned from that ceiling).
MIN_DEMAND_FACTOR = 1e-3
#: Largest rise of market entry one demand shock may ask for: the journey thins entry from a
#: ceiling of 1.5 x the base (`simsales.journey.MAX_DEMAND_MULTIPLIER` - 1).
MAX_DEMAND_CHANGE = 0.5
#: Largest yearly demand or NEV-taste trend magnitude.
MAX_TREND = 1.0


def horizon_problem(start: date, days: int, warmup_days: int) -> str | None:
    """Why a horizon cannot be represented by the calendar, or None."""
    try:
        start - timedelta(days=warmup_days)
        start + timedelta(days=days)
    except OverflowError:
        return f"{start} - {warmup_days} days .. + {days} days leaves the calendar (years 1..9999)"
    return None


def check_sizes(scenario: Any, file: str) -> None:
    """Cross-field limits: the calendar, the demand trend over the horizon, the network size."""
    run = scenario.run
    problem = horizon_problem(run.start_date, run.days, run.warmup_days)
    if problem:
        raise ScenarioError(problem, file=file, key="run")
    from simsales.journey import MAX_DEMAND_MULTIPLIER  # the journey's fact; imported late (journey imports the schema)

    trend = scenario.population.demand_trend_per_year
    for years in (-run.warmup_days / 365.0, (run.days - 1) / 365.0):
        factor = math.exp(years * math.log1p(trend))  # (1 + trend) ** years; trend > -1 is checked by its range
        if not MIN_DEMAND_FACTOR <= factor <= MAX_DEMAND_MULTIPLIER + 1e-9:
            raise ScenarioError(
                f"{trend} makes market entry {factor:.3g} x its start-date level {abs(years):.2f} years "
                f"{'before' if years < 0 else 'after'} the start date; the model can represent factors in "
                f"[{MIN_DEMAND_FACTOR:g}, {MAX_DEMAND_MULTIPLIER}] (simsales.journey.MAX_DEMAND_MULTIPLIER), so shorten "
                "run.days / run.warmup_days or use a smaller trend",
                file=file,
                key="population.demand_trend_per_year",
            )
    real_scale = scenario.network.real_dealers * run.n_consumers / run.real_population
    if not real_scale <= MAX_DEALER_AGENTS:
        raise ScenarioError(
            f"network.real_dealers x run.n_consumers / run.real_population = {real_scale:.3g} dealer agents; "
            f"at most {MAX_DEALER_AGENTS:,} (run.real_population must be at least "
            f"{scenario.network.real_dealers * run.n_consumers / MAX_DEALER_AGENTS:.3g})",
            file=file,
            key="run.real_population",
        )


#: Memory a run needs per consumer agent, bytes: measured peak ~115 B (RSS, 50,000 vs 400,000
#: consumers, baseline), with headroom for the temporaries of busy days.
BYTES_PER_CONSUMER = 400
#: Memory a run needs regardless of its size (interpreter, numpy, pandas, mesa), bytes.
BASE_BYTES = 250e6


def estimate_bytes(n_consumers: int, n_dealers: int = 0, n_products: int = 0) -> float:
    """Memory one run needs, bytes (an upper estimate): consumers, plus each store's stock by age
    and order pipeline (int64 per dealer x product x day)."""
    from simsales.agents.dealers import MAX_AGE_DAYS, PIPELINE_DAYS  # late: dealers imports the schema

    stock = 8.0 * n_dealers * n_products * (MAX_AGE_DAYS + PIPELINE_DAYS)
    return BASE_BYTES + BYTES_PER_CONSUMER * float(n_consumers) + stock


def scenario_bytes(scenario: Any) -> float:
    """`estimate_bytes` for a scenario's own size (dealer agents as the model derives them)."""
    run, net = scenario.run, scenario.network
    n_dealers = max(net.min_dealers, round(net.real_dealers * run.n_consumers / run.real_population))
    return estimate_bytes(run.n_consumers, n_dealers, len(scenario.products))


def available_bytes() -> float | None:
    """Memory available to a new run now (Linux MemAvailable), bytes; None when it cannot be read."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024.0
    except OSError:
        return None
    return None


def memory_problem(scenario: Any, available: float | None = None) -> str | None:
    """Why a run of this scenario's size does not fit in the memory available now, or None."""
    free = available_bytes() if available is None else available
    need = scenario_bytes(scenario)
    if free is None or need <= free:
        return None
    n = scenario.run.n_consumers
    most = max(int((free - (need - BYTES_PER_CONSUMER * n)) / BYTES_PER_CONSUMER), 0)
    return (
        f"{n:,} consumers need about {need / 1e9:.1f} GB ({BYTES_PER_CONSUMER} bytes each + "
        f"{BASE_BYTES / 1e9:.2f} GB + store stock), but {free / 1e9:.1f} GB is available; "
        f"at most about {most:,} consumers fit"
    )
