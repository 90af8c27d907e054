"""Keyed random numbers: every draw is a pure function of (root key, purpose, entity, day, column).

Why: a comparison between two scenarios is only *paired* if a consumer whose journey an event
does not touch draws exactly the same numbers in both runs.  A single sequential generator
cannot give that: draws are handed out in the order the day's active consumers are processed,
so any event that changes who is active shifts every later draw for everyone.

How: the discrete-event simulation literature dedicates one stream to each source of
randomness and synchronises it across the compared systems (Law & Kelton, *Simulation Modeling
and Analysis*, ch. 11; L'Ecuyer et al. 2002, "An object-oriented random-number package with many
long streams and substreams").  With millions of consumers one stream object each is too
costly, so simsales uses the counter-based form of the same idea (Salmon et al. 2011,
"Parallel random numbers: as easy as 1, 2, 3"; L'Ecuyer, Nadeau-Chamard, Chen & Lebar 2021,
"Multiple streams with recurrence-based, counter-based, and splittable random number
generators"): a uniform is a strong 64-bit mix of its key, so "the stream of consumer 17 for
the test-drive decision on day 400" is just an address, computed for a whole batch at once.

Construction: the purpose and the entity id are mixed into a 64-bit seed, and the draw is the
SplitMix64 output (Steele, Lea & Flood 2014; the generator NumPy uses to seed its own bit
generators) at position (counter, column) of the sequence that seed starts: one sequence per
entity and purpose, indexed by day.  SplitMix64 passes the BigCrush test battery.  All
operations are vectorised NumPy integer arithmetic: two mixing rounds per number.

A draw's key never includes a queue position, so the numbers a consumer sees depend only on
the seed and on its own journey (which purposes it reaches on which days).  Within a day a
consumer reaches each `Purpose` at most once; a call site that needs several numbers asks for
several columns, and one that repeats for the same consumer (extra online leads) gives each
repeat its own `sub` index.
"""

from __future__ import annotations

import functools
from enum import IntEnum

import numpy as np
from scipy import special

_GOLDEN_INT = 0x9E3779B97F4A7C15
_MASK = (1 << 64) - 1
_GOLDEN = np.uint64(_GOLDEN_INT)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_C_ID = np.uint64(0xD1B54A32D192ED03)
_S30, _S27, _S31 = np.uint64(30), np.uint64(27), np.uint64(31)
_COLUMN_BITS = 8
#: Keyed numbers one entity can draw for one purpose on one day (columns x sub-streams).
MAX_COLUMNS = 1 << _COLUMN_BITS
_TO_UNIT = 2.0**-53
#: Models with at least this many consumers draw through the numba kernels when numba is installed.
#: Why this size: loading numba and LLVM costs about 145 MB per process (of which about 95 MB are
#: the read-only pages of llvmlite's LLVM library) and the kernels save about 1 s a run at 10^6
#: consumers (keyed draws: 1.8 s instead of 2.9 s, mostly per-call Python overhead either way);
#: below a few million consumers that memory is more than the consumers' own (61 bytes each).
COMPILED_FROM = 2_000_000


class Purpose(IntEnum):
    """Every source of randomness in the model: one keyed stream each.

    New purposes go at the end, so existing keys (and published results) stay the same.
    """

    # consumers at construction (counter 0)
    AGE_BAND = 1
    TIER = 2
    ONLINE = 3
    NEV_WTP = 4
    PRICE_SENSITIVITY = 5
    OWNS_CAR = 6
    PREVIOUS_GROUP = 7
    # the journey (counter: the day)
    ENTRY_WAIT = 20
    ENTRY_ACCEPT = 21
    RESEARCH_DAYS = 22
    SHOWROOM_SESSIONS = 23
    RESEARCH_OUTCOME = 24
    EXTRA_LEADS = 25
    EXTRA_LEAD_STORE = 26
    LEAD_OUTCOME = 27
    VISIT_DELAY = 28
    ONLINE_DECISION = 29
    STORE_CHOICE = 30
    NO_ORDER = 31
    VISIT = 32
    TEST_DRIVE_DELAY = 33
    CHOICE = 34
    ORDER = 35
    SATISFACTION = 36
    FIRST_SERVICE = 37
    REFERRAL_TARGET = 38
    REFERRAL_DELAY = 39
    # salespeople (entity: slot) and stores (entity: dealer x product cell)
    SALES_VACANCY = 60
    SALES_KNOWLEDGE = 61
    SALES_TENURE = 62
    SALES_MONTH = 63
    STOCK_ORDER = 64
    # added later (new purposes go at the end)
    COLD_LEAD_INFO = 65
    FORECAST_ERROR = 66


def mix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser on an array of uint64 (a bijection with full avalanche)."""
    return _mix64_inplace(np.array(x, dtype=np.uint64))


def _mix64_inplace(x: np.ndarray) -> np.ndarray:
    """`mix64` overwriting `x` (one scratch array, no other temporaries: the hot path's draws)."""
    t = x >> _S30
    x ^= t
    x *= _M1
    np.right_shift(x, _S27, out=t)
    x ^= t
    x *= _M2
    np.right_shift(x, _S31, out=t)
    x ^= t
    return x


def _keys(ids: np.ndarray, counter: int | np.ndarray, n: int, sub: int | np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ids as an integer array, counters and sub-streams as uint64 arrays of length 1 or len(ids)."""
    ids = np.ascontiguousarray(ids, dtype=np.int64)  # one dtype and layout: one compiled signature
    if isinstance(sub, (int, np.integer)):  # the common case, without array reductions
        subs = np.array([sub], dtype=np.uint64)
        last = int(sub)
    else:
        subs = np.atleast_1d(np.asarray(sub).astype(np.uint64))
        last = int(subs.max(initial=0))
    if n * (last + 1) > MAX_COLUMNS:
        raise ValueError(f"at most {MAX_COLUMNS} keyed numbers per entity, purpose and day")
    if isinstance(counter, (int, np.integer)):
        counters = np.array([counter], dtype=np.uint64)
    else:
        counters = np.atleast_1d(np.asarray(counter).astype(np.uint64))
    return ids, counters, subs


def _bits_numpy(purpose_key: np.uint64, ids: np.ndarray, counters: np.ndarray, subs: np.ndarray, n: int) -> np.ndarray:
    """The keyed hashes in plain NumPy: the reference the compiled kernels must reproduce bit for bit."""
    seed = ids.astype(np.uint64)  # a copy, mixed in place below
    seed *= _C_ID
    seed ^= purpose_key
    seed = _mix64_inplace(seed)
    cols = subs[:, None] * np.uint64(n) + np.arange(n, dtype=np.uint64)
    position = (counters[:, None] << np.uint64(_COLUMN_BITS)) + cols + np.uint64(1)
    return _mix64_inplace(seed[:, None] + position * _GOLDEN)


@functools.cache
def compiled_kernels():
    """The same hashes as `_bits_numpy`, one compiled loop per call (no temporaries, no per-op overhead).

    Why: the journey asks for keyed numbers about forty times a day, mostly for a few hundred
    consumers each; in NumPy each call costs some twenty array operations, and their fixed
    overhead made keyed draws a fifth of a run at 10^6 consumers.  Loading numba and its cached
    machine code costs about a second and 145 MB per process, so only large models use them (see
    `COMPILED_FROM`); the numbers are the same either way.  Numba is imported here, on first use,
    and each kernel is compiled (or loaded from numba's cache) only when first called: a model
    run calls `uniform` alone.  Returns None when numba is not installed.
    """
    try:
        import numba
    except ImportError:
        return None
    golden, m1, m2, c_id = _GOLDEN, _M1, _M2, _C_ID
    s30, s27, s31, s11 = _S30, _S27, _S31, np.uint64(11)
    col_bits = np.uint64(_COLUMN_BITS)
    one = np.uint64(1)
    to_unit = _TO_UNIT

    @numba.njit(inline="always")
    def mix(x):
        x ^= x >> s30
        x *= m1
        x ^= x >> s27
        x *= m2
        x ^= x >> s31
        return x

    @numba.njit(inline="always")
    def row(ids, key, counters, subs, n, i):  # entity i's sequence seed and its first position today
        seed = mix((np.uint64(ids[i]) * c_id) ^ key)
        c = counters[i] if counters.shape[0] > 1 else counters[0]
        s = subs[i] if subs.shape[0] > 1 else subs[0]
        return seed, (c << col_bits) + s * np.uint64(n) + one

    @numba.njit(cache=True, nogil=True)
    def bits(ids, key, counters, subs, n, out):
        for i in range(ids.shape[0]):
            seed, base = row(ids, key, counters, subs, n, i)
            for j in range(n):
                out[i, j] = mix(seed + (base + np.uint64(j)) * golden)

    @numba.njit(cache=True, nogil=True)
    def uniform(ids, key, counters, subs, n, out):
        for i in range(ids.shape[0]):
            seed, base = row(ids, key, counters, subs, n, i)
            for j in range(n):
                out[i, j] = np.float64(mix(seed + (base + np.uint64(j)) * golden) >> s11) * to_unit

    class _Kernels:
        pass

    k = _Kernels()
    k.bits, k.uniform = bits, uniform
    return k




class Streams:
    """Keyed uniforms and the few distributions the model needs, all by inverse transform.

    `ids` are entity numbers (consumer, salesperson slot, dealer x product cell); `counter`
    is the day (or 0 at construction), a scalar or one value per id; `n` columns give several
    independent numbers per id; `sub` (scalar or one per id) separates repeats of one purpose
    for the same id on the same day.  Results have shape (len(ids),) for n=1, else (len(ids), n).
    """

    def __init__(self, root: int, compiled: bool = False) -> None:
        self.root = int(root) & 0xFFFFFFFFFFFFFFFF
        #: draw through the numba kernels (same numbers, less overhead per call) when numba is installed
        self.compiled = compiled
        # one mixed key per purpose value, indexed by the purpose
        purposes = np.arange(max(Purpose) + 1, dtype=np.uint64)
        self._purpose_keys = mix64(mix64(np.array([self.root], dtype=np.uint64)) ^ (purposes * _GOLDEN))

    def bits(self, purpose: Purpose, ids: np.ndarray, counter: int | np.ndarray, n: int = 1, sub: int | np.ndarray = 0) -> np.ndarray:
        """Raw 64-bit keyed hashes, shape (len(ids), n).

        Each (purpose, entity) pair gets its own SplitMix64 sequence: its seed is the mixed
        key of purpose and entity, and the position in the sequence is (counter, column), with
        up to `MAX_COLUMNS` columns (n x sub-streams) per counter value.
        """
        ids, counters, subs = _keys(ids, counter, n, sub)
        kernels = compiled_kernels() if self.compiled else None
        if kernels is None:
            return _bits_numpy(self._purpose_keys[purpose], ids, counters, subs, n)
        out = np.empty((len(ids), n), dtype=np.uint64)
        kernels.bits(ids, self._purpose_keys[purpose], counters, subs, n, out)
        return out

    def uniform(self, purpose: Purpose, ids: np.ndarray, counter: int | np.ndarray, n: int = 1, sub: int | np.ndarray = 0) -> np.ndarray:
        """Uniforms on [0, 1) with 53 random bits (the top 53 bits of `bits`)."""
        ids, counters, subs = _keys(ids, counter, n, sub)
        kernels = compiled_kernels() if self.compiled else None
        if kernels is None:
            u = _bits_numpy(self._purpose_keys[purpose], ids, counters, subs, n)
            u >>= np.uint64(11)
            u = u.astype(np.float64)
            u *= _TO_UNIT
        else:
            u = np.empty((len(ids), n), dtype=np.float64)
            kernels.uniform(ids, self._purpose_keys[purpose], counters, subs, n, u)
        return u[:, 0] if n == 1 else u

    def exponential(self, purpose: Purpose, ids: np.ndarray, counter: int | np.ndarray, scale: float | np.ndarray = 1.0) -> np.ndarray:
        """Exponential waits with the given mean."""
        return -np.log1p(-self.uniform(purpose, ids, counter)) * scale

    def normal(self, purpose: Purpose, ids: np.ndarray, counter: int | np.ndarray) -> np.ndarray:
        """Standard normals (Box-Muller on two keyed uniforms)."""
        u = self.uniform(purpose, ids, counter, 2)
        return np.sqrt(-2.0 * np.log1p(-u[:, 0])) * np.cos(2.0 * np.pi * u[:, 1])

    def gamma(self, purpose: Purpose, ids: np.ndarray, counter: int | np.ndarray, shape: float, scale: float) -> np.ndarray:
        """Gamma variates by the inverse of the regularised incomplete gamma function."""
        return special.gammaincinv(shape, self.uniform(purpose, ids, counter)) * scale

    def poisson(self, purpose: Purpose, ids: np.ndarray, counter: int | np.ndarray, mean: float) -> np.ndarray:
        """Poisson counts by inverse transform (sequential search of the CDF; the model's means are small)."""
        u = self.uniform(purpose, ids, counter)
        k = np.zeros(len(u), dtype=np.int64)
        if mean <= 0:
            return k
        term = np.exp(-mean)  # P(K = 0)
        cdf = term
        for i in range(1, int(mean + 12.0 * np.sqrt(mean) + 12.0)):
            above = u >= cdf
            if not above.any():
                break
            k += above
            term *= mean / i
            cdf += term
        return k

    def integers(self, purpose: Purpose, ids: np.ndarray, counter: int | np.ndarray, high: int) -> np.ndarray:
        """Integers uniform on [0, high)."""
        return np.minimum((self.uniform(purpose, ids, counter) * high).astype(np.int64), high - 1)

    def categorical(self, purpose: Purpose, ids: np.ndarray, counter: int | np.ndarray, p: np.ndarray) -> np.ndarray:
        """Category index with probabilities p (the same for every id)."""
        cdf = np.cumsum(np.asarray(p, dtype=float))
        u = self.uniform(purpose, ids, counter) * cdf[-1]
        return np.minimum(np.searchsorted(cdf, u, side="right"), len(cdf) - 1)
