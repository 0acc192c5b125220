"""Fetching a pull's window: read AMD's changes once, guard them, follow moves, and store them
in pieces with a fresh checkpoint (the unit a later invocation resumes from, SPEC §9.3)."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

from amdsync.domain.errors import SyncErrorCode
from amdsync.domain.pulls import PullCheckpoint
from amdsync.domain.status import EhrStatus, ehr_status_from_amd
from amdsync.sync.context import SyncContext
from amdsync.sync.journal import Operation, new_id
from amdsync.sync.moves import follow_moves
from amdsync.sync.ports import AmdAppointment
from amdsync.sync.pull_types import PullOptions, PullSummary


class WindowFetch:
    def __init__(self, ctx: SyncContext, options: PullOptions) -> None:
        self._ctx = ctx
        self._options = options

    def fetch(self, op: Operation, since: str | None) -> PullSummary | PullCheckpoint:
        """Read the window once, guard it, follow moves, and store it in pieces."""
        if since is None:
            op.operation = "bootstrap"
            servertime, visits = self._bootstrap()
        else:
            changes = self._ctx.scheduler.updated_visits(since)
            servertime, visits = changes.servertime, list(changes.visits)
        summary = PullSummary(servertime=servertime, visits=len(visits))
        summary.degraded = sum(1 for v in visits if v.unresolved)
        if self._mass_change(visits):
            summary.status = "blocked"
            summary.error_code = SyncErrorCode.MASS_CHANGE_BLOCKED
            self._ctx.metrics.count("MassChangeBlocked")
            return summary
        visits = follow_moves(self._ctx, visits)
        visits = self._without_own_bookings(visits)
        size = self._options.chunk_size
        pieces = [
            [dataclasses.asdict(v) for v in visits[first : first + size]]
            for first in range(0, len(visits), size)
        ]
        checkpoint = PullCheckpoint(
            window_id=new_id()[:20],
            since=since,
            servertime=servertime,
            chunks=len(pieces),
            counts=summary.counts(),
            started_at=self._ctx.clock.now(),
        )
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
        upcoming_visits = {r.advanced_md_visit_id for r in upcoming}
        cancelling = sum(
            1
            for v in visits
            if v.visit_id in upcoming_visits
            and v.status_code is not None
            and ehr_status_from_amd(v.status_code) is EhrStatus.CANCELLED
        )
        ratio = self._ctx.settings.get().value.mass_change_guard_ratio
        return cancelling > self._options.mass_change_min and cancelling / len(upcoming) > ratio


def upcoming_range(now: datetime) -> tuple[str, str]:
    """The start-index range (naive local ISO) holding every appointment from `now` on: a
    day's slack below covers any zone's offset; the exact cut is `start_instant() >= now`."""
    return (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S"), "9999-12-31T23:59:59"
