"""The seeded price path: a geometric random walk per symbol whose price at any instant is read without state.

The walk moves on "market seconds": the 57,600 seconds from 04:00 to 20:00 New York of every weekday (holidays
too: the calendar decides when trades happen, not when the walk moves); between them the price stands still. Its
value at the start of weekday k comes from a dyadic Brownian bridge whose draws are keyed by (seed, symbol,
interval), so any day costs 21 keyed draws, never a walk from the start; inside a day it is a Brownian bridge
between that day's start and the next one, drawn from numpy's legacy `RandomState` (a stream numpy keeps
stable) seeded by (seed, symbol, day). The price is `start x exp(sigma x (W(t) - W(anchor)))`: `start` at the
anchor, sigma per second from the annual volatility over 252 days of 57,600 seconds. Volatility 0 is a flat path
(a held price). Volumes per minute come from the same keys, U-shaped over the regular session.
"""

from __future__ import annotations

import hashlib
import math
import struct
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import lru_cache
from statistics import NormalDist
from typing import TYPE_CHECKING

from harness.probes.market import NEW_YORK

if TYPE_CHECKING:  # numpy is imported when a path is first walked
    import numpy as np

DAY_SECONDS = 16 * 3600  # 04:00 to 20:00
DAY_MINUTES = DAY_SECONDS // 60
DAY_START = time(4, 0)
EPOCH = date(2000, 1, 3)  # a Monday: weekday index 0
LEVELS = 21  # the day-level bridge spans 2**21 weekdays (about 8,000 years) each side of the epoch
TRADING_DAYS_A_YEAR = 252
REGULAR_FIRST_MINUTE = 330  # 09:30 is minute 330 after 04:00
REGULAR_MINUTES = 390
_NORMAL = NormalDist()


@dataclass(frozen=True, slots=True)
class PathSpec:
    """One symbol's walk: its price `start_price` at `anchor`, its annual `volatility`, the world's `seed`."""

    symbol: str
    seed: int
    start_price: float
    volatility: float
    anchor: datetime
    daily_volume: float = 1_000_000.0

    @property
    def key(self) -> bytes:
        return hashlib.blake2b(f"{self.seed}\0{self.symbol}".encode(), digest_size=16).digest()

    @property
    def sigma(self) -> float:
        """Volatility per market second."""
        return self.volatility / math.sqrt(TRADING_DAYS_A_YEAR * DAY_SECONDS)


def weekday_index(day: date) -> int:
    """Weekdays since the epoch: Monday 2000-01-03 is 0; a Saturday or Sunday counts as the next Monday."""
    weeks, rest = divmod((day - EPOCH).days, 7)
    return weeks * 5 + min(rest, 5)


def position(instant: datetime) -> tuple[int, int]:
    """(weekday index, second of its 04:00-20:00 day): before 04:00 is second 0, after 20:00 and over a weekend
    the next weekday's second 0 (the walk stands still there)."""
    local = instant.astimezone(NEW_YORK)
    index = weekday_index(local.date())
    if local.weekday() >= 5:
        return index, 0
    second = (local - datetime.combine(local.date(), DAY_START, NEW_YORK)).total_seconds()
    if second < 0:
        return index, 0
    if second >= DAY_SECONDS:
        return index + 1, 0
    return index, int(second)


def _normal(key: bytes, side: int, a: int, b: int) -> float:
    """A standard normal draw keyed by (symbol key, side of the epoch, interval): the same in every run."""
    digest = hashlib.blake2b(key + struct.pack(">bqq", side, a, b), digest_size=8).digest()
    return _NORMAL.inv_cdf((int.from_bytes(digest, "big") + 0.5) / 2**64)


def _walk_at_day(key: bytes, index: int) -> float:
    """W at the start of weekday `index` (in per-second units): a dyadic Brownian bridge over day indices."""
    side = 1 if index >= 0 else -1
    target = abs(index)
    lo, hi = 0, 1 << LEVELS
    w_lo, w_hi = 0.0, math.sqrt(hi) * _normal(key, side, -1, hi)  # the far end
    while target not in (lo, hi):
        mid = (lo + hi) // 2
        w_mid = (w_lo + w_hi) / 2 + math.sqrt((hi - lo) / 4) * _normal(key, side, lo, hi)
        if target < mid:
            hi, w_hi = mid, w_mid
        else:
            lo, w_lo = mid, w_mid
    return math.sqrt(DAY_SECONDS) * (w_lo if target == lo else w_hi)


def _day_seed(key: bytes, index: int, what: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(key + what + struct.pack(">q", index), digest_size=4).digest(), "big")


def _walk_day(key: bytes, index: int) -> np.ndarray:
    """W over the 57,600 seconds of weekday `index`: a Brownian bridge from its start to the next day's start."""
    import numpy as np

    start, end = _walk_at_day(key, index), _walk_at_day(key, index + 1)
    steps = np.random.RandomState(_day_seed(key, index, b"walk")).standard_normal(DAY_SECONDS)
    summed = np.concatenate(([0.0], np.cumsum(steps)))
    t = np.arange(DAY_SECONDS + 1) / DAY_SECONDS
    return (start + t * (end - start) + summed - t * summed[-1])[:-1]


@lru_cache(maxsize=256)
def _anchor_walk(spec: PathSpec) -> float:
    index, second = position(spec.anchor)
    return float(_walk_day(spec.key, index)[second])


@lru_cache(maxsize=24)
def day_prices(spec: PathSpec, index: int) -> np.ndarray:
    """The price in each second of weekday `index` (04:00 is element 0). Read-only: the array is shared."""
    import numpy as np

    if spec.volatility == 0:
        prices = np.full(DAY_SECONDS, float(spec.start_price))
    else:
        prices = spec.start_price * np.exp(spec.sigma * (_walk_day(spec.key, index) - _anchor_walk(spec)))
    prices.setflags(write=False)
    return prices


def price_at(spec: PathSpec, instant: datetime) -> float:
    """The path's price at an instant (unrounded)."""
    if spec.volatility == 0:
        return float(spec.start_price)
    index, second = position(instant)
    return float(day_prices(spec, index)[second])


@lru_cache(maxsize=512)
def minute_volumes(spec: PathSpec, index: int) -> np.ndarray:
    """Cumulative volume at each minute boundary of weekday `index` (961 values from 04:00 to 20:00): about
    `daily_volume` a day, 90% in the regular session (U-shaped), 5% before and 5% after it."""
    import numpy as np

    minutes = np.arange(DAY_MINUTES)
    regular = (minutes >= REGULAR_FIRST_MINUTE) & (minutes < REGULAR_FIRST_MINUTE + REGULAR_MINUTES)
    x = (minutes - REGULAR_FIRST_MINUTE) / REGULAR_MINUTES
    shape = np.where(regular, 0.5 + 4.0 * (x - 0.5) ** 2, 0.0)
    weights = np.where(regular, 0.90 * shape / shape.sum(), 0.10 / (DAY_MINUTES - REGULAR_MINUTES))
    noise = np.random.RandomState(_day_seed(spec.key, index, b"volume")).lognormal(0.0, 0.35, DAY_MINUTES)
    volumes = np.round(spec.daily_volume * weights * noise)
    cumulative = np.concatenate(([0.0], np.cumsum(volumes)))
    cumulative.setflags(write=False)
    return cumulative


def volume_between(spec: PathSpec, index: int, first: int, last: int) -> float:
    """Shares traded from second `first` to second `last` (exclusive) of weekday `index`."""
    import numpy as np

    cumulative = minute_volumes(spec, index)
    grid = np.arange(DAY_MINUTES + 1)
    upto = np.interp([first / 60, last / 60], grid, cumulative)
    return float(round(upto[1] - upto[0]))


def size_at(spec: PathSpec, instant: datetime, salt: int) -> int:
    """A quote or trade size (a multiple of 100 shares) that depends only on the symbol, second and `salt`."""
    second = int(instant.timestamp())
    digest = hashlib.blake2b(spec.key + struct.pack(">qq", second, salt), digest_size=2).digest()
    return 100 * (1 + int.from_bytes(digest, "big") % 30)
