"""Rate limits per office key and tier (PROTOCOL §6), counted on AMD's clock in one of three
window modes (`SimConfig.rate_window`):

* `calendar`: fixed calendar minutes of AMD's clock (the minute boundaries move with
  `clock_offset_seconds`);
* `sliding`: any 60 s span ending now, i.e. calls accepted in (now - 60 s, now];
* `bucket`: a token bucket per office key and tier holding up to the minute limit, refilled
  continuously at limit/60 tokens per second (starts full).

The limit is the tier's peak or off-peak figure, judged in America/Denver on AMD's clock at the
moment of the call. getupdatedvisits/getupdatedpatients carry their own cap
(`updated_cap_per_minute`, each action separately) on top of Tier 1, counted the same way.
A refused call consumes nothing."""

from __future__ import annotations

import bisect
import math
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from .config import SimConfig

TIER1 = frozenset({"getupdatedvisits", "getupdatedpatients"})
TIER2 = frozenset(
    {
        "savecharges",
        "getdemographic",
        "getdatevisits",
        "updvisitwithnewcharges",
        "gettxhistory",
        "getappts",
        "getpaymentdetaildata",
    }
)
ONE_PER_MINUTE = TIER1
PEAK_ZONE = ZoneInfo("America/Denver")  # "Mountain Time" whatever the practice's zone (§6)

MINUTE_MS = 60_000
KEEP_MS = 2 * MINUTE_MS  # call log kept per key: enough for a sliding or calendar minute
# Bucket arithmetic in integers: one token = MINUTE_MS units; a bucket of limit L gains L units
# per millisecond (L tokens per minute) and holds at most L * MINUTE_MS units.
TOKEN_UNITS = MINUTE_MS


def tier_of(action: str) -> int:
    name = action.lower()
    if name in TIER1:
        return 1
    if name in TIER2:
        return 2
    return 3


def is_peak(instant: datetime, tz: ZoneInfo = PEAK_ZONE) -> bool:
    """Mon-Fri 06:00-18:00 in the Mountain zone (America/Denver, DST-aware)."""
    local = instant.astimezone(tz)
    return local.weekday() < 5 and 6 <= local.hour < 18


def _ms(instant: datetime) -> int:
    return round(instant.timestamp() * 1000)


def _seconds(ms: int) -> int:
    """A retry hint in whole seconds, never 0."""
    return max(1, math.ceil(ms / 1000))


def _next_minute_ms(now_ms: int) -> int:
    return MINUTE_MS - now_ms % MINUTE_MS


@dataclass
class _Bucket:
    units: int
    at_ms: int


class RateLimiter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._log: dict[tuple[str, str], list[int]] = {}  # (office, budget) -> accepted ms
        self._buckets: dict[tuple[str, str], _Bucket] = {}

    def reset(self) -> None:
        with self._lock:
            self._log.clear()
            self._buckets.clear()

    def acquire(
        self, office_key: str, action: str, tier: int, now: datetime, config: SimConfig
    ) -> int | None:
        """Count one call at AMD instant `now`. None if allowed, else seconds to wait."""
        if not config.rate_limits_enabled:
            return None
        now_ms = _ms(now)
        peak = is_peak(now)
        budgets = [(f"tier{tier}", config.tier_limit(tier, peak))]
        if action.lower() in ONE_PER_MINUTE:
            budgets.append((action.lower(), config.updated_cap_per_minute))
        mode = config.rate_window
        with self._lock:
            for budget, limit in budgets:
                wait = self._wait_ms(mode, (office_key, budget), limit, now_ms)
                if wait is not None:
                    return _seconds(wait)
            for budget, limit in budgets:
                self._take(mode, (office_key, budget), limit, now_ms)
        return None

    # ---------------------------------------------------------------- per mode

    def _wait_ms(self, mode: str, key: tuple[str, str], limit: int, now_ms: int) -> int | None:
        """None if one more call fits the budget now, else milliseconds until it would."""
        if limit <= 0:
            return _next_minute_ms(now_ms)
        if mode == "bucket":
            return self._bucket_wait(key, limit, now_ms)
        log = self._pruned(key, now_ms)
        if mode == "sliding":
            lo = bisect.bisect_right(log, now_ms - MINUTE_MS)
            hi = bisect.bisect_right(log, now_ms)
            # Else: wait until the call whose leaving makes room is out of (now-60 s, now].
            return None if hi - lo < limit else log[hi - limit] + MINUTE_MS - now_ms
        start = now_ms - now_ms % MINUTE_MS
        used = bisect.bisect_left(log, start + MINUTE_MS) - bisect.bisect_left(log, start)
        return None if used < limit else _next_minute_ms(now_ms)

    def _bucket_wait(self, key: tuple[str, str], limit: int, now_ms: int) -> int | None:
        bucket = self._refilled(key, limit, now_ms)
        if bucket.units >= TOKEN_UNITS:
            return None
        return math.ceil((TOKEN_UNITS - bucket.units) / limit)

    def _take(self, mode: str, key: tuple[str, str], limit: int, now_ms: int) -> None:
        if mode == "bucket":
            self._refilled(key, limit, now_ms).units -= TOKEN_UNITS
        bisect.insort(self._log.setdefault(key, []), now_ms)

    def _pruned(self, key: tuple[str, str], now_ms: int) -> list[int]:
        log = self._log.setdefault(key, [])
        old = bisect.bisect_left(log, now_ms - KEEP_MS)
        if old:
            del log[:old]
        return log

    def _refilled(self, key: tuple[str, str], limit: int, now_ms: int) -> _Bucket:
        """The key's bucket brought up to `now_ms`; capacity follows the current limit (so it
        shrinks at the start of peak hours and grows at their end)."""
        capacity = max(limit, 0) * TOKEN_UNITS
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(capacity, now_ms)
        elapsed = max(0, now_ms - bucket.at_ms)
        bucket.units = min(capacity, bucket.units + elapsed * max(limit, 0))
        bucket.at_ms = max(bucket.at_ms, now_ms)
        return bucket

    # ---------------------------------------------------------------- inspection

    def usage(self, office_key: str, now: datetime, config: SimConfig) -> dict[str, Any]:
        """Per budget (`tier1`, `getupdatedvisits`, ...): calls counted in the current window
        (calendar minute or last 60 s) and, in bucket mode, whole tokens left."""
        now_ms = _ms(now)
        start = now_ms - now_ms % MINUTE_MS
        out: dict[str, Any] = {}
        with self._lock:
            for (office, budget), log in self._log.items():
                if office != office_key:
                    continue
                if config.rate_window == "calendar":
                    used = bisect.bisect_left(log, start + MINUTE_MS) - bisect.bisect_left(
                        log, start
                    )
                else:
                    used = bisect.bisect_right(log, now_ms) - bisect.bisect_right(
                        log, now_ms - MINUTE_MS
                    )
                out[budget] = {"calls": used}
                if config.rate_window == "bucket" and (office, budget) in self._buckets:
                    limit = _limit_of(budget, now, config)
                    units = self._refilled((office, budget), limit, now_ms).units
                    out[budget]["tokens"] = units // TOKEN_UNITS
        return out


def _limit_of(budget: str, now: datetime, config: SimConfig) -> int:
    if budget.startswith("tier"):
        return config.tier_limit(int(budget[4:]), is_peak(now))
    return config.updated_cap_per_minute
