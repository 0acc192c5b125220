"""Fetching a pull's window: read AMD's changes once, guard them, follow moves, and store them
in pieces with a fresh checkpoint (the unit a later invocation resumes from, SPEC §9.3).

More than 1,000 changed visits come back as ids only (PROTOCOL §3.14), and each resubmission
of ≤ 500 ids is another feed call, once a minute per office key: the ids go into the
checkpoint at once, each resubmission's visits are stored as it returns, and a run makes the
next call only if the feed's turn comes within its rate wait and its remaining time, so each
scheduled tick moves the read on by a call and no tick repeats one."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any

from amdsync.domain.errors import SyncErrorCode
from amdsync.domain.pulls import PullCheckpoint
from amdsync.domain.servertime import ServerTime
from amdsync.domain.status import EhrStatus, ehr_status_from_amd
from amdsync.sync.context import SyncContext
from amdsync.sync.journal import Operation, new_id
from amdsync.sync.moves import follow_moves
from amdsync.sync.ports import AmdAppointment
from amdsync.sync.pull_types import PullOptions, PullSummary, Remaining

FEED_IDS = 500  # AMD's ceiling for one resubmission of an overflow's ids (PROTOCOL §3.14)


class WindowFetch:
    def __init__(self, ctx: SyncContext, options: PullOptions) -> None:
        self._ctx = ctx
        self._options = options

    def fetch(
        self, op: Operation, since: str | None, remaining: Remaining | None = None
    ) -> PullSummary | PullCheckpoint:
        """Read the window, guard it, follow moves, and store it in pieces. An overflow reply's
        ids are stored first and resubmitted one feed turn at a time (`read_overflow`)."""
        window = PullCheckpoint(
            window_id=new_id()[:20],
            since=since,
            servertime=None,
            chunks=0,
            started_at=self._ctx.clock.now(),
        )
        if since is None:
            op.operation = "bootstrap"
            servertime, visits = self._bootstrap()
            return self._store(window.model_copy(update={"servertime": servertime}), visits)
        changes = self._ctx.scheduler.updated_visits(since)
        window = window.model_copy(update={"servertime": changes.servertime})
        if not changes.overflow_ids:
            return self._store(window, list(changes.visits))
        # Kept before anything else: the next run resubmits from here, never the first call.
        ids = list(changes.overflow_ids)
        chunks = [ids[first : first + FEED_IDS] for first in range(0, len(ids), FEED_IDS)]
        window = window.model_copy(update={"id_chunks": len(chunks)})
        self._ctx.pull_windows.store_ids(window, chunks)
        self._ctx.metrics.count("PullOverflow")
        return self.read_overflow(window, remaining)

    def read_overflow(
        self, window: PullCheckpoint, remaining: Remaining | None
    ) -> PullSummary | PullCheckpoint:
        """Resubmit the stored ids chunk by chunk while the feed's turns fit this run; the
        checkpoint moves after each chunk's visits are stored. The last chunk's move is saved
        with the stored window itself, so a checkpoint never says "read" without its pieces."""
        windows = self._ctx.pull_windows
        this_run: dict[int, list[dict[str, Any]]] = {}  # not read back: a request each
        while window.reading:
            refusal = feed_refusal(self._ctx, self._options, remaining)
            if refusal is not None:
                refusal.status = "partial"  # the checkpoint holds the ids: the next tick goes on
                self._ctx.metrics.count("PullCheckpointed")
                return refusal
            index = window.next_id_chunk
            ids = windows.ids(window.window_id, index)
            part = self._ctx.scheduler.updated_visits(window.since, ids)
            this_run[index] = [dataclasses.asdict(v) for v in part.visits]
            windows.store_read(window.window_id, index, this_run[index])
            window = window.model_copy(
                update={
                    "next_id_chunk": index + 1,
                    "servertime": _earliest(window.servertime, part.servertime),
                }
            )
            if window.reading:
                windows.save_checkpoint(window)
        read: dict[str, AmdAppointment] = {}
        for index in range(window.id_chunks):
            stored = this_run[index] if index in this_run else windows.read(window.window_id, index)
            read.update((v["visit_id"], visit_from(v)) for v in stored)
        return self._store(window, list(read.values()))

    def _store(
        self, window: PullCheckpoint, visits: list[AmdAppointment]
    ) -> PullSummary | PullCheckpoint:
        """Guard the whole window, follow moves, and store it in pieces with its checkpoint."""
        summary = PullSummary(servertime=window.servertime, visits=len(visits))
        summary.degraded = sum(1 for v in visits if v.unresolved)
        if self._mass_change(visits):
            summary.status = "blocked"
            summary.error_code = SyncErrorCode.MASS_CHANGE_BLOCKED
            self._ctx.metrics.count("MassChangeBlocked")
            if window.id_chunks:
                self._ctx.pull_windows.clear(window)  # as a plain window: read again next time
            return summary
        visits = follow_moves(self._ctx, visits)
        visits = self._without_own_bookings(visits)
        size = self._options.chunk_size
        pieces = [
            [dataclasses.asdict(v) for v in visits[first : first + size]]
            for first in range(0, len(visits), size)
        ]
        checkpoint = window.model_copy(update={"chunks": len(pieces), "counts": summary.counts()})
        self._ctx.pull_windows.store_window(checkpoint, pieces)
        return checkpoint

    def _without_own_bookings(self, visits: list[AmdAppointment]) -> list[AmdAppointment]:
        """Our own bookings between AMD's answer and our claim are not unlinked AMD visits."""
        in_flight = {
            (b.advanced_md_patient_id, b.start) for b in self._ctx.appointments.list_in_flight()
        }
        if not in_flight:
            return visits
        booked = [v for v in visits if (v.patient_id, v.start) in in_flight]
        owned = self._ctx.appointments.owners_of_visits([v.visit_id for v in booked])
        return [
            v for v in visits if (v.patient_id, v.start) not in in_flight or v.visit_id in owned
        ]

    def _bootstrap(self) -> tuple[str | None, list[AmdAppointment]]:
        today = self._ctx.clock.now().astimezone(self._ctx.timezone).date()
        first = today - timedelta(days=self._options.bootstrap_days_back)
        days = self._options.bootstrap_days_back + self._options.bootstrap_days_ahead + 1
        servertime: str | None = None
        visits: list[AmdAppointment] = []
        for offset in range(days):
            day = self._ctx.scheduler.visits_on(first + timedelta(days=offset))
            # The first reply's clock: changes made while we read later days are pulled next.
            servertime = servertime or day.servertime
            visits.extend(day.visits)
        return servertime, visits

    def _mass_change(self, visits: list[AmdAppointment]) -> bool:
        """SPEC §6: refuse a pull that would cancel too large a share of upcoming appointments."""
        cancels = {
            v.visit_id
            for v in visits
            if v.status_code is not None
            and ehr_status_from_amd(v.status_code) is EhrStatus.CANCELLED
        }
        if len(cancels) <= self._options.mass_change_min:
            return False  # cannot trip the guard: most pulls skip reading the upcoming range
        now = self._ctx.clock.now()
        # Already-cancelled records are not "upcoming": their cancels (often our own pushes,
        # echoed back by GETUPDATEDVISITS) would change nothing and must not trip the guard.
        upcoming = [
            r
            for r in self._ctx.appointments.list_between(*upcoming_range(now))
            if r.start_instant() >= now
            and r.advanced_md_visit_id
            and r.status != EhrStatus.CANCELLED
        ]
        if not upcoming:
            return False
        cancelling = len(cancels & {r.advanced_md_visit_id for r in upcoming})
        ratio = self._ctx.settings.get().value.mass_change_guard_ratio
        return cancelling > self._options.mass_change_min and cancelling / len(upcoming) > ratio


def feed_refusal(
    ctx: SyncContext, options: PullOptions, remaining: Remaining | None
) -> PullSummary | None:
    """`too_soon` when AMD's feed is further off than this run may wait for it, or than fits
    in its remaining time (with the deadline margin); None when the call may go now. Checked
    before every feed call, so a run never spends its turn on a call the limiter refuses."""
    wait = ctx.scheduler.feed_wait()
    # No wait: the run's own deadline check (before any work) covers it.
    fits = remaining is None or wait <= 0 or remaining() - wait >= options.deadline_margin
    if wait <= options.max_feed_wait and fits:
        return None
    ctx.metrics.count("PullTooSoon")
    return PullSummary(status="too_soon", retry_after=wait)


def visit_from(stored: dict[str, Any]) -> AmdAppointment:
    return AmdAppointment(**{**stored, "unresolved": tuple(stored.get("unresolved", ()))})


def _earliest(mark: str | None, other: str | None) -> str | None:
    """The overflow reply's servertime if it had one, else the earliest chunk's: nothing
    changed during the chunked read falls behind the next watermark (PROTOCOL §3.14)."""
    if mark is None or other is None:
        return mark or other
    return min(mark, other, key=ServerTime)


def upcoming_range(now: datetime) -> tuple[str, str]:
    """The start-index range (naive local ISO) holding every appointment from `now` on: a
    day's slack below covers any zone's offset; the exact cut is `start_instant() >= now`."""
    return (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S"), "9999-12-31T23:59:59"
