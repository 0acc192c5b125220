"""The product's estimate of AMD's clock, learned from AMD's own replies (PROTOCOL §1.4, §4.4).

AMD judges peak hours on its clock (PROTOCOL §6), and nothing says that clock agrees with ours.
Every `PPMDResults` envelope carries `@lst` (the server's timestamp, whole seconds, format
varies) and some replies `Results/@servertime` (milliseconds). A reply read between `sent` and
`received` (our clock) bounds the offset:

    AMD's clock - ours  in  [stamp_low - received, stamp_high - sent]

where [stamp_low, stamp_high] is what the text can mean: a whole-second `@lst` may have been
truncated or rounded, so [t - 0.5 s, t + 1 s); a `servertime` with milliseconds [t - 1 ms,
t + 1 ms]. Readings are intersected (`ClockOffset.merge`), so the estimate narrows with use.

UNCERTAIN (docs/decisions.md): neither stamp states its zone. They are read as practice-local
wall time (`zone`, America/Denver by default), like every other AMD time. A reading whose
offset is implausible (more than `plausible` seconds, default 10 min) is ignored rather than
trusted: it more likely means another zone or format than a clock that far off. Before any
plausible reading the offset is only known to lie within +/- `assumed_max_offset` (30 s).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from amdsync.amd.envelope import Reply
from amdsync.amd.ports import Clock, MetricsSink, NullMetrics
from amdsync.domain.pacing import ClockOffset
from amdsync.domain.textparse import TimeFormatError, parse_iso, parse_vb

log = logging.getLogger(__name__)

DEFAULT_ZONE = ZoneInfo("America/Denver")
ASSUMED_MAX_OFFSET = 30.0
PLAUSIBLE_OFFSET = 600.0
# A shared estimate is rewritten when ours differs from it by more than this.
SHARE_DIFFERENCE = 0.05

_MERIDIEM = re.compile(r"[AP]M\s*$", re.IGNORECASE)
_FRACTION = re.compile(r":\d{2}\.(\d+)\s*$")


def _candidates(text: str) -> tuple[list[datetime], float, float]:
    """Naive readings the text may mean, and the bounds of the true instant around each."""
    naive = parse_vb("@lst", text) or parse_iso("@lst", text)
    if naive is None:
        return [], 0.0, 0.0
    fraction = _FRACTION.search(text)
    if fraction is not None:
        step = 10.0 ** -len(fraction.group(1))
        low, high = -step, step
    else:
        low, high = -0.5, 1.0  # truncated or rounded to the second: unknown which
    readings = [naive]
    if _MERIDIEM.search(text) is None and naive.hour <= 12 and parse_vb("@lst", text) is not None:
        # `04/28/2025 04:57:33` may be a 12-hour clock without AM/PM (§1.4): try both halves.
        readings += [naive + timedelta(hours=12), naive - timedelta(hours=12)]
    return readings, low, high


def reading(
    text: str, sent: datetime, received: datetime, zone: ZoneInfo, plausible: float
) -> ClockOffset | None:
    """The offset interval one AMD timestamp implies, or None if unreadable or implausible."""
    try:
        readings, low, high = _candidates(text)
    except TimeFormatError:
        return None
    best: ClockOffset | None = None
    for naive in readings:
        for fold in (0, 1):  # a repeated (fall-back) hour: whichever occurrence fits best
            stamp = naive.replace(tzinfo=zone, fold=fold).timestamp()
            found = ClockOffset(
                lo=stamp + low - received.timestamp(),
                hi=stamp + high - sent.timestamp(),
                at=received.timestamp(),
            )
            if best is None or abs(found.mid) < abs(best.mid):
                best = found
    if best is None or abs(best.mid) > plausible or best.lo > best.hi:
        return None
    return best


class AmdClock:
    """Thread-safe; one per office key and process, shared by its client and rate limiter."""

    def __init__(
        self,
        zone: ZoneInfo = DEFAULT_ZONE,
        *,
        assumed_max_offset: float = ASSUMED_MAX_OFFSET,
        plausible: float = PLAUSIBLE_OFFSET,
        metrics: MetricsSink | None = None,
    ) -> None:
        self._zone = zone
        self._assumed = assumed_max_offset
        self._plausible = plausible
        self._metrics = metrics or NullMetrics()
        self._lock = threading.Lock()
        self._estimate: ClockOffset | None = None
        self._shared: ClockOffset | None = None
        self._warned = False

    @property
    def estimate(self) -> ClockOffset | None:
        with self._lock:
            return self._estimate

    def bounds(self, now: datetime) -> tuple[float, float]:
        """AMD's clock minus ours lies within these seconds (the assumed range until learned)."""
        with self._lock:
            estimate = self._estimate
        if estimate is None:
            return -self._assumed, self._assumed
        aged = estimate.aged(now.timestamp())
        return aged.lo, aged.hi

    def amd_now(self, now: datetime) -> datetime:
        """Our best guess of AMD's clock reading at our `now`."""
        with self._lock:
            estimate = self._estimate
        return now if estimate is None else now + timedelta(seconds=estimate.mid)

    def learn(self, offset: ClockOffset) -> None:
        with self._lock:
            before = self._estimate
            self._estimate = offset if before is None else before.merge(offset)
        if before is None:
            log.info("AdvancedMD clock offset learned", extra={"offset_seconds": offset.mid})

    def observe(self, text: object, sent: datetime, received: datetime) -> bool:
        """One AMD timestamp read between `sent` and `received`; True if it was usable."""
        if not isinstance(text, str) or not text.strip():
            return False
        found = reading(text, sent, received, self._zone, self._plausible)
        if found is None:
            self._metrics.count("AmdClockImplausible")
            if not self._warned:
                self._warned = True
                log.warning("ignoring an AdvancedMD timestamp that is unreadable or implausible")
            return False
        self.learn(found)
        return True

    def observe_reply(
        self,
        root: Mapping[str, Any],
        results: Mapping[str, Any],
        sent: datetime,
        received: datetime,
    ) -> None:
        """Learn from a `PPMDResults` reply: `@lst` on the envelope, `@servertime` if present."""
        self.observe(root.get("@lst"), sent, received)
        if results is not root:
            self.observe(results.get("@servertime"), sent, received)

    def watch(self, clock: Clock, send: Callable[[], Reply]) -> Reply:
        """Send, timing it on `clock`, and learn from the reply."""
        sent = clock.now()
        reply = send()
        self.observe_reply(reply.root, reply.results, sent, clock.now())
        return reply

    # --- sharing through the rate item -------------------------------------------------------
    def to_share(self) -> ClockOffset | None:
        """Our estimate, if the shared copy lacks it (absent, or materially different)."""
        with self._lock:
            mine, shared = self._estimate, self._shared
        if mine is None:
            return None
        if shared is None:
            return mine
        seen = shared.aged(mine.at)
        if abs(seen.lo - mine.lo) > SHARE_DIFFERENCE or abs(seen.hi - mine.hi) > SHARE_DIFFERENCE:
            return mine
        return None

    def shared_is(self, offset: ClockOffset | None) -> None:
        """The store holds `offset` now: remember it and merge it into ours."""
        if offset is None:
            return
        with self._lock:
            self._shared = offset
            before = self._estimate
            self._estimate = offset if before is None else before.merge(offset)
