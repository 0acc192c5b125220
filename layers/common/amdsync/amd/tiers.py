"""AMD's impact tiers as data (PROTOCOL §6): a change of AMD's limits is a change of this table.

A call spends from one or more budgets: its tier, and for the change feeds also the separate
1-call-per-minute cap that applies at all hours (§3.14, §7.24). How the limits become spacing
between calls is `amdsync.amd.ratelimit`'s business.

`AMD_RATE_LIMITS_JSON` (optional, JSON like `{"T2": {"peak": 600, "off_peak": 600}}`) replaces
the limits of the budgets it names; the others keep PROTOCOL §6's values. It exists for the local
stack and its tests (the simulator's limits can be switched off, the product's limiter runs on the
real clock); a deployment leaves it unset.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any


class Budget(StrEnum):
    TIER1 = "T1"
    TIER2 = "T2"
    TIER3 = "T3"
    FEED = "FEED"  # getupdatedvisits/getupdatedpatients: 1/min at all hours
    LOGIN = "LOGIN"  # >1 login/min/account earns a 429 (§6)


@dataclass(frozen=True)
class Limit:
    peak: int
    off_peak: int

    def at(self, peak: bool) -> int:
        return self.peak if peak else self.off_peak


DEFAULT_LIMITS: Mapping[Budget, Limit] = {
    Budget.TIER1: Limit(peak=1, off_peak=60),
    Budget.TIER2: Limit(peak=12, off_peak=120),
    Budget.TIER3: Limit(peak=24, off_peak=120),
    Budget.FEED: Limit(peak=1, off_peak=1),
    Budget.LOGIN: Limit(peak=1, off_peak=1),
}

RATE_LIMITS_ENV = "AMD_RATE_LIMITS_JSON"

# The named calls of each tier (Limits page); anything else is Tier 3 (§3.0).
_NAMED: Mapping[str, Budget] = {
    "getupdatedvisits": Budget.TIER1,
    "getupdatedpatients": Budget.TIER1,
    "savecharges": Budget.TIER2,
    "getdemographic": Budget.TIER2,
    "getdatevisits": Budget.TIER2,
    "updvisitwithnewcharges": Budget.TIER2,
    "gettxhistory": Budget.TIER2,
    "getappts": Budget.TIER2,
    "getpaymentdetaildata": Budget.TIER2,
}
_FEEDS = frozenset({"getupdatedvisits", "getupdatedpatients"})

# REST scheduler tiers are undocumented (§6, UNCERTAIN): budget them as Tier 2.
REST_BUDGETS: tuple[Budget, ...] = (Budget.TIER2,)


def budgets_for_action(action: str) -> tuple[Budget, ...]:
    """Budgets an XMLRPC action spends (action names match case-insensitively, §1.2)."""
    name = action.strip().lower()
    if name == "login":
        # Untiered, so Tier 3 by default (§6), plus the one-login-per-minute guard.
        return (Budget.LOGIN, Budget.TIER3)
    tier = _NAMED.get(name, Budget.TIER3)
    return (Budget.FEED, tier) if name in _FEEDS else (tier,)


TIERS: tuple[Budget, ...] = (Budget.TIER1, Budget.TIER2, Budget.TIER3)


def tier_of(budgets: Sequence[Budget]) -> str:
    """The impact tier a call spends (its metric dimension, SPEC §7): the feeds' and the
    login's own caps are not tiers; every call spends exactly one tier."""
    return next((b.value for b in budgets if b in TIERS), Budget.TIER3.value)


@dataclass(frozen=True)
class LimitTable:
    """Per-minute limits per budget, judged peak/off-peak by `is_peak` (America/Denver)."""

    limits: Mapping[Budget, Limit]
    is_peak: Callable[[datetime], bool]

    def limit(self, budget: Budget, instant: datetime) -> int:
        return self.limits[budget].at(self.is_peak(instant))

    def peak_within(self, start: datetime, end: datetime) -> bool:
        """Whether any instant of [start, end] is in peak hours.

        Peak hours begin and end on whole minutes (06:00, 18:00), so checking both ends and
        every minute boundary in between is exact.
        """
        if self.is_peak(start) or self.is_peak(end):
            return True
        minute = start.replace(second=0, microsecond=0) + timedelta(minutes=1)
        while minute < end:
            if self.is_peak(minute):
                return True
            minute += timedelta(minutes=1)
        return False

    @classmethod
    def default(cls) -> LimitTable:
        from amdsync.domain.timefmt import is_peak  # noqa: PLC0415 - keep tiers importable alone

        configured = os.environ.get(RATE_LIMITS_ENV, "").strip()
        if configured:
            return cls.from_mapping(json.loads(configured), is_peak)
        return cls(limits=DEFAULT_LIMITS, is_peak=is_peak)

    @classmethod
    def from_mapping(
        cls, data: Mapping[str, Any], is_peak: Callable[[datetime], bool]
    ) -> LimitTable:
        """From `{"T2": {"peak": 12, "off_peak": 120}, ...}`; budgets not named keep defaults."""
        limits = dict(DEFAULT_LIMITS)
        for key, value in data.items():
            limits[Budget(key)] = Limit(peak=int(value["peak"]), off_peak=int(value["off_peak"]))
        return cls(limits=limits, is_peak=is_peak)
