"""Switches. Where PROTOCOL.md marks behaviour UNCERTAIN the default is the stricter choice,
unless PROTOCOL §8 (facts to simulate) states the behaviour; every such choice is a switch."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

DEMO_OFFICE_KEY = "999999"
DEMO_USERNAME = "DEMO"
DEMO_PASSWORD = "demo"  # noqa: S105 - fake demo credential, documented in the README
DEMO_APPNAME = "TEMP"


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
    # Rate limits (§6).
    rate_limits_enabled: bool = True
    peak_limits: dict[str, int] = field(default_factory=lambda: {"1": 1, "2": 12, "3": 24})
    offpeak_limits: dict[str, int] = field(default_factory=lambda: {"1": 60, "2": 120, "3": 120})
    updated_cap_per_minute: int = 1  # getupdatedvisits/getupdatedpatients, all hours
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
        names = {f.name: f for f in dataclasses.fields(self)}
        for key, value in changes.items():
            if key not in names:
                raise ValueError(f"unknown switch {key!r}")
            current = getattr(self, key)
            if current is not None and value is not None and not _same_kind(current, value):
                raise ValueError(f"switch {key!r} expects {type(current).__name__}")
            setattr(self, key, value)
        if self.expiry_fault not in {"timeout", "lapse"}:
            raise ValueError("expiry_fault must be 'timeout' or 'lapse'")
        if self.window_end not in {"msgtime", "servertime"}:
            raise ValueError("window_end must be 'msgtime' or 'servertime'")

    def as_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data.pop("password")
        return data

    def tier_limit(self, tier: int, peak: bool) -> int:
        table = self.peak_limits if peak else self.offpeak_limits
        return int(table[str(tier)])


def _same_kind(current: object, value: object) -> bool:
    if isinstance(current, bool) or isinstance(value, bool):
        return isinstance(current, bool) and isinstance(value, bool)
    if isinstance(current, int) and isinstance(value, int):
        return True
    return isinstance(value, type(current))
