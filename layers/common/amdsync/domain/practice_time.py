"""The EHR's wall time (any IANA zone) <-> AMD's naive practice-local wall time (SPEC §9.2).

The EHR sends `start` + `timeZone`; AMD's scheduler takes and returns practice-local times with
no offset (PROTOCOL §4.4). The instant is what must survive the trip: 13:00 America/New_York is
booked as 11:00 in a Denver practice, and 11:00 read back from AMD is 13:00 New York again.

Naive practice-local text loses which occurrence of a repeated (fall-back) hour was meant. When
AMD's time is ambiguous, `from_amd` picks the occurrence that matches the instant we expect (the
EHR's current start), so our own booking never reads back an hour off; with no match it takes
the earlier one. A time AMD shows inside a skipped (spring-forward) hour is read with the
pre-transition offset, i.e. shifted forward, rather than rejected: it is AMD's data, not input.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from amdsync.domain.localtime import (
    FoldPolicy,
    is_ambiguous,
    localize,
    localize_or_shift_forward,
    to_local_naive,
    zone_of,
)
from amdsync.domain.timefmt import local_wall_time


def _iso(naive: datetime) -> str:
    return naive.isoformat(timespec="seconds")


def rezone(start: str, from_zone: str, to_zone: str) -> str:
    """The same instant as wall time in another zone (`start` is naive ISO in `from_zone`)."""
    if from_zone == to_zone:
        return start
    return _iso(to_local_naive(local_wall_time(start, from_zone), to_zone))


@dataclass(frozen=True)
class PracticeTime:
    """Conversions for one practice, whose AMD schedule runs on `zone`'s wall clock."""

    zone: ZoneInfo

    def to_amd(self, start: str, time_zone: str) -> str:
        """The EHR's `start` in `time_zone` -> the practice-local time AMD must be sent."""
        return _iso(to_local_naive(local_wall_time(start, time_zone), self.zone))

    def from_amd(self, amd_start: str, time_zone: str, expected: str | None = None) -> str:
        """AMD's practice-local time -> wall time in `time_zone`.

        `expected` (naive ISO in `time_zone`) resolves a repeated practice-local hour in favour
        of the occurrence we booked.
        """
        instant = self._instant(datetime.fromisoformat(amd_start), time_zone, expected)
        return _iso(to_local_naive(instant, time_zone))

    def _instant(self, naive: datetime, time_zone: str, expected: str | None) -> datetime:
        if not is_ambiguous(naive, self.zone):
            return localize_or_shift_forward(naive, self.zone).astimezone(UTC)
        if expected is not None:
            wanted = local_wall_time(expected, zone_of(time_zone))
            for fold in (FoldPolicy.EARLIER, FoldPolicy.LATER):
                candidate = localize(naive, self.zone, fold)
                if candidate == wanted:
                    return candidate
        return localize(naive, self.zone, FoldPolicy.EARLIER)
