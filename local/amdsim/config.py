"""Switches. Where PROTOCOL.md marks behaviour UNCERTAIN the default is the stricter choice,
unless PROTOCOL §8 (facts to simulate) states the behaviour; every such choice is a switch."""

from __future__ import annotations

import copy
import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

DEMO_OFFICE_KEY = "999999"
DEMO_USERNAME = "DEMO"
DEMO_PASSWORD = "demo"  # noqa: S105 - fake demo credential, documented in the README
DEMO_APPNAME = "TEMP"

RATE_WINDOWS = ("calendar", "sliding", "bucket")
# PROTOCOL §6 limits per tier (peak, off-peak); a tier missing from a configured table uses these.
DEFAULT_PEAK_LIMITS = {"1": 1, "2": 12, "3": 24}
DEFAULT_OFFPEAK_LIMITS = {"1": 60, "2": 120, "3": 120}
# The modes the product's limiter is judged against (issue 14): a sliding 60 s window on an AMD
# clock 17 s ahead of ours. `POST /_sim/config` (or `reset` with `config`) with these switches.
STRICT_RATE_SWITCHES: dict[str, Any] = {"rate_window": "sliding", "clock_offset_seconds": 17.0}


@dataclass
class SimConfig:
    api_host: str = "api-417"
    practice_tz: str = "America/Denver"
    server_name: str = "AMDSIM01"
    # Credentials: office key -> (username, password, allowed app names).
    office_key: str = DEMO_OFFICE_KEY
    username: str = DEMO_USERNAME
    password: str = DEMO_PASSWORD
    appnames: list[str] = field(default_factory=lambda: [DEMO_APPNAME])
    # Tokens (§2.5).
    token_lifetime_seconds: int = 24 * 3600
    token_midnight_expiry: bool = False  # UNCERTAIN: also expire at next practice-local midnight
    expiry_fault: str = "timeout"  # "timeout" -> 1025/-2147220479; "lapse" -> -2147219456
    login_invalidates_old_tokens: bool = True  # UNCERTAIN (§9.6): stricter = yes
    login_min_interval_seconds: int = 60  # re-login while a token is valid -> HTTP 429
    login_counts_tier3: bool = True  # login is in no tier -> Tier 3 by default (§6)
    login_always_xml: bool = False  # Doc p.884 claim; settled false (§9.4)
    usercontext_must_be_first: bool = True  # Doc p.19
    privilege_denied_actions: list[str] = field(default_factory=list)  # -> fault 3085
    # Rate limits (§6). How AMD counts "one-minute intervals" is OPEN (§9.19-21), so the window
    # is a switch: "calendar" = fixed minutes of AMD's clock; "sliding" = any 60 s span ending
    # now, (now-60 s, now]; "bucket" = token bucket per office key and tier, capacity = the
    # minute limit, refilled continuously at limit/60 per second. Calendar is the friendly
    # default; tests and benchmarks of the product's limiter use STRICT_RATE_SWITCHES.
    rate_limits_enabled: bool = True
    rate_window: str = "calendar"
    # AMD's clock minus the product's (simulated) clock, seconds: + = AMD runs ahead. Moves
    # peak hours, window alignment, token expiry, servertime, @lst and the HTTP Date header.
    clock_offset_seconds: float = 0.0
    peak_limits: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_PEAK_LIMITS))
    offpeak_limits: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_OFFPEAK_LIMITS))
    # getupdatedvisits/getupdatedpatients, each, all hours, in every window mode (sliding: in
    # any 60 s span; bucket: capacity = cap, refilled at cap/60 per second).
    updated_cap_per_minute: int = 1
    rest_tier: int = 2  # UNCERTAIN (§9.21): budget REST as Tier 2
    # Request validation.
    require_msgtime: bool = True  # live server is lenient; stricter = required
    msgtime_max_skew_minutes: int | None = 60  # |msgtime - practice-local now| above -> warning
    msgtime_skew_rejects: bool = False  # True: such a msgtime is a fault + violation
    datechanged_strict_format: bool = True  # must look like a servertime
    datechanged_must_be_issued: bool = False  # must equal a servertime this office was given
    window_end: str = "msgtime"  # "msgtime" (Workflows p.2) or "servertime"
    # getupdatedvisits (§3.14).
    overflow_threshold: int = 1000
    chunk_limit: int = 500
    overflow_includes_servertime: bool = False  # UNCERTAIN (§9.13): stricter = absent
    # Scheduler REST (§3.16).
    rest_honours_referenceid: bool = True  # §8 says the simulator stores it
    rest_post_honours_force: bool = False  # UNCERTAIN: stricter = force ignored on POST
    move_creates_new_id: bool = False  # §8: move keeps the id; True = new record, old gets 5
    # Benchmarks.
    latency_ms: int = 0

    def update(self, changes: dict[str, Any]) -> None:
        """Apply switches all-or-nothing: an invalid change leaves the config untouched."""
        names = {f.name for f in dataclasses.fields(self)}
        trial = copy.deepcopy(self)
        for key, value in changes.items():
            if key not in names:
                raise ValueError(f"unknown switch {key!r}")
            setattr(trial, key, _checked(key, getattr(self, key), value))
        trial.validate()
        for key in changes:
            setattr(self, key, getattr(trial, key))

    def validate(self) -> None:
        if self.expiry_fault not in {"timeout", "lapse"}:
            raise ValueError("expiry_fault must be 'timeout' or 'lapse'")
        if self.window_end not in {"msgtime", "servertime"}:
            raise ValueError("window_end must be 'msgtime' or 'servertime'")
        if self.rate_window not in RATE_WINDOWS:
            raise ValueError(f"rate_window must be one of {', '.join(RATE_WINDOWS)}")
        cap = self.updated_cap_per_minute
        if isinstance(cap, bool) or not isinstance(cap, int) or cap < 0:
            raise ValueError("updated_cap_per_minute must be a whole number >= 0")
        offset = self.clock_offset_seconds
        if not isinstance(offset, float) or not math.isfinite(offset):
            raise ValueError("clock_offset_seconds must be a finite number of seconds")

    def as_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data.pop("password")
        return data

    def tier_limit(self, tier: int, peak: bool) -> int:
        table = self.peak_limits if peak else self.offpeak_limits
        default = DEFAULT_PEAK_LIMITS if peak else DEFAULT_OFFPEAK_LIMITS
        return int(table.get(str(tier), default.get(str(tier), 0)))


def _checked(key: str, current: object, value: object) -> object:
    if current is not None and value is not None and not _same_kind(current, value):
        raise ValueError(f"switch {key!r} expects {type(current).__name__}")
    if isinstance(current, float) and isinstance(value, int):
        return float(value)
    if key in {"peak_limits", "offpeak_limits"}:
        return _limit_table(key, value)
    return value


def _limit_table(name: str, value: object) -> dict[str, int]:
    """`{"1": n, "2": n, "3": n}` (int keys accepted); tiers left out keep PROTOCOL §6 values."""
    if not isinstance(value, dict):
        raise ValueError(f"switch {name!r} expects a mapping tier -> calls per minute")
    table: dict[str, int] = {}
    for tier, limit in value.items():
        if str(tier) not in DEFAULT_PEAK_LIMITS:
            raise ValueError(f"{name}: unknown tier {tier!r} (tiers are 1, 2, 3)")
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise ValueError(f"{name}[{tier}] must be a whole number >= 0")
        table[str(tier)] = limit
    return table


def _same_kind(current: object, value: object) -> bool:
    if isinstance(current, bool) or isinstance(value, bool):
        return isinstance(current, bool) and isinstance(value, bool)
    if isinstance(current, int) and isinstance(value, int):
        return True
    if isinstance(current, float) and isinstance(value, int):
        return True
    return isinstance(value, type(current))
