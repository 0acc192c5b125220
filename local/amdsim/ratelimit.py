"""Per office key, per tier, per calendar minute of the simulated clock (PROTOCOL §6)."""

from __future__ import annotations

import threading
from datetime import datetime
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


def tier_of(action: str) -> int:
    name = action.lower()
    if name in TIER1:
        return 1
    if name in TIER2:
        return 2
    return 3


def is_peak(instant: datetime, tz: ZoneInfo) -> bool:
    """Mon-Fri 06:00-18:00 in the practice-independent Mountain zone (America/Denver)."""
    local = instant.astimezone(tz)
    return local.weekday() < 5 and 6 <= local.hour < 18


class RateLimiter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, str, int], int] = {}

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()

    def acquire(
        self, office_key: str, action: str, tier: int, now: datetime, config: SimConfig
    ) -> int | None:
        """Count one call. Returns None if allowed, else the seconds until the next minute."""
        if not config.rate_limits_enabled:
            return None
        minute = int(now.timestamp() // 60)
        peak = is_peak(now, ZoneInfo("America/Denver"))
        limit = config.tier_limit(tier, peak)
        tier_key = (office_key, f"tier{tier}", minute)
        action_key = (office_key, action.lower(), minute)
        wait = 60 - now.second
        with self._lock:
            self._prune(minute)
            if self._counts.get(tier_key, 0) >= limit:
                return wait
            capped = action.lower() in ONE_PER_MINUTE
            if capped and self._counts.get(action_key, 0) >= config.updated_cap_per_minute:
                return wait
            self._counts[tier_key] = self._counts.get(tier_key, 0) + 1
            if capped:
                self._counts[action_key] = self._counts.get(action_key, 0) + 1
        return None

    def _prune(self, minute: int) -> None:
        if len(self._counts) > 512:
            for key in [k for k in self._counts if k[2] < minute - 1]:
                del self._counts[key]

    def usage(self, office_key: str, now: datetime) -> dict[str, int]:
        minute = int(now.timestamp() // 60)
        with self._lock:
            return {
                k[1]: v for k, v in self._counts.items() if k[0] == office_key and k[2] == minute
            }
