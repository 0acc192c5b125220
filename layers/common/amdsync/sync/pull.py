"""Pull: bring AMD-side changes back (GETUPDATEDVISITS from AMD's own watermark, PROTOCOL §3.14).

One run holds a lease and works in two phases. Fetch (only when no window is stored): read the
whole window (the adapter chunks overflow answers; the first run bootstraps from GETDATEVISITS
day by day), stop if the mass-change guard trips, follow moved visits, and store the window in
pieces with a checkpoint. Apply: each piece's visits idempotently (merge with our record, change
feed, conflicts, unlinked visits, push jobs for EHR-side changes still on their way), the
checkpoint saved after each piece. A run given a deadline (the Lambda context's remaining time)
stops cleanly between pieces with a margin to spare; the next run resumes at the checkpoint
without reading AMD's feed again (once a minute per office key, SPEC §9.3). Only after the last
piece does the watermark move to the reply's `servertime`. A crash repeats at most one piece.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from amdsync.domain.appointments import AppointmentSyncRecord
from amdsync.domain.concurrency import StaleWriteError
from amdsync.domain.errors import SyncErrorCode, UnknownStatusError
from amdsync.domain.feed import ChangeFeedEntry
from amdsync.domain.pulls import PullCheckpoint
from amdsync.domain.review import UnlinkedAmdAppointment
from amdsync.domain.status import EhrStatus, ehr_status_from_amd
from amdsync.jobs import SyncJob
from amdsync.sync.amd_view import amd_snapshot
from amdsync.sync.context import SyncContext
from amdsync.sync.failures import describe
from amdsync.sync.journal import Journal, Operation, new_id
from amdsync.sync.merge import merge_with_amd
from amdsync.sync.moves import follow_moves
from amdsync.sync.ports import AmdAppointment
from amdsync.sync.resolve import ReverseMappings

LEASE = "pull"
# Beyond the holder's own deadline: its invocation is gone by then, so the lease is free.
LEASE_SLACK_SECONDS = 5
MAX_STALE_RETRIES = 5
# The summary counters carried in the checkpoint from one invocation to the next.
COUNTERS = (
    "updated", "created", "cancelled", "conflicts", "charges", "unlinked", "degraded", "visits",
    "unreadable",
)  # fmt: skip

# Seconds left in this invocation (the Lambda context's get_remaining_time_in_millis() / 1000).
Remaining = Callable[[], float]


@dataclass
class PullSummary:
    updated: int = 0
    created: int = 0
    cancelled: int = 0
    conflicts: int = 0
    charges: int = 0
    unlinked: int = 0
    degraded: int = 0  # visits read without a lookup AMD would not answer (fields not compared)
    visits: int = 0
    amd_calls: int = 0
    servertime: str | None = None
    unreadable: int = 0
    # ok | partial (stopped at its deadline; the next run resumes) | busy | too_soon | blocked
    status: str = "ok"
    error_code: SyncErrorCode | None = None
    pushes: list[str] = field(default_factory=list)
    retry_after: float | None = None  # too_soon: seconds until AMD's feed may be read

    def counts(self) -> dict[str, int]:
        return {name: int(getattr(self, name)) for name in COUNTERS}


@dataclass(frozen=True)
class PullOptions:
    bootstrap_days_back: int = 1
    bootstrap_days_ahead: int = 14
    # The guard trips only above this many cancellations, so one cancel in a quiet week passes.
    mass_change_min: int = 5
    # AMD's change feed goes at most once per 60 s + margin per office key, whoever calls
    # (SPEC §9.3; the shared limiter's FEED budget). A pull that would have to wait longer than
    # this for it answers `too_soon` without calling AMD: 0 for the pull button (the caller is
    # told when); the pull function passes PULL_MAX_RATE_WAIT, so a scheduled pull waits the
    # few seconds inside its run instead of skipping a minute.
    max_feed_wait: float = 0.0
    # Visits per stored piece: the unit of checkpointing (and of work repeated after a crash).
    chunk_size: int = 100
    # A run with a deadline starts no piece with less than this many seconds left.
    deadline_margin: float = 10.0
    # The lease of a run without a deadline (the CLI): the pull function's timeout.
    lease_seconds: float = 120.0


class PullRun:
    def __init__(self, ctx: SyncContext, options: PullOptions | None = None) -> None:
        self._ctx = ctx
        self._options = options or PullOptions()
        self._journal = Journal(ctx.logs, ctx.metrics, ctx.clock)

    def run(self, actor: str = "system", remaining: Remaining | None = None) -> PullSummary:
        """The whole window, or (with `remaining`) as much as fits before the deadline."""
        resuming = self._ctx.pull_windows.checkpoint() is not None
        too_soon = None if resuming else self._feed_too_soon()
        if too_soon is not None:
            return too_soon
        op = Operation("pull", self._ctx.practice, "pull", "from_amd", actor=actor)
        owner = new_id()
        now = self._ctx.clock.now()
        if not self._ctx.leases.acquire(LEASE, owner, now, now + self._lease_for(remaining)):
            return PullSummary(status="busy")
        calls_before = self._ctx.amd_calls.calls_made()
        try:
            summary = self._pull(op, remaining)
        except Exception as exc:
            failure = describe(exc)
            op.amd_calls = self._ctx.amd_calls.calls_made() - calls_before
            self._journal.finish(op, "error", failure.code, failure.message)
            raise
        finally:
            self._ctx.leases.release(LEASE, owner)
        summary.amd_calls = op.amd_calls = self._ctx.amd_calls.calls_made() - calls_before
        outcome = "error" if summary.status == "blocked" else "success"
        self._journal.finish(op, outcome, summary.error_code)  # type: ignore[arg-type]
        return summary

    def _lease_for(self, remaining: Remaining | None) -> timedelta:
        """As long as this run can possibly last (its function's timeout), plus a little."""
        seconds = remaining() if remaining is not None else self._options.lease_seconds
        return timedelta(seconds=max(seconds, 0.0) + LEASE_SLACK_SECONDS)

    def _feed_too_soon(self) -> PullSummary | None:
        if self._ctx.watermark.get().value is None:
            return None  # the first pull reads day lists (GETDATEVISITS), not the feed
        wait = self._ctx.scheduler.feed_wait()
        if wait <= self._options.max_feed_wait:
            return None
        self._ctx.metrics.count("PullTooSoon")
        return PullSummary(status="too_soon", retry_after=wait)

    def _out_of_time(self, remaining: Remaining | None) -> bool:
        return remaining is not None and remaining() < self._options.deadline_margin

    def _pull(self, op: Operation, remaining: Remaining | None) -> PullSummary:
        watermark = self._ctx.watermark.get()
        window = self._window(op, watermark.value, remaining)
        if isinstance(window, PullSummary):
            return window
        summary, checkpoint = self._apply_pieces(window, remaining)
        if not checkpoint.finished:
            return summary
        # Everything the window covers is stored: only now may the watermark move past it.
        if checkpoint.servertime is not None:
            self._ctx.watermark.advance(
                checkpoint.servertime, self._ctx.clock.now(), watermark.version
            )
        self._ctx.pull_windows.clear(checkpoint)
        self._ctx.metrics.count("PullSucceeded")
        return summary

    def _window(
        self, op: Operation, since: str | None, remaining: Remaining | None
    ) -> PullSummary | PullCheckpoint:
        """The stored window to resume, or a freshly fetched one (or why there is none)."""
        checkpoint = self._ctx.pull_windows.checkpoint()
        if checkpoint is not None and checkpoint.since != since:
            self._ctx.pull_windows.clear(checkpoint)  # read before the watermark last moved
            checkpoint = None
        if checkpoint is not None:
            op.operation = "resume"
            self._ctx.metrics.count("PullResumed")
            return checkpoint
        if self._out_of_time(remaining):
            return PullSummary(status="partial")
        return self._fetch(op, since)

    def _apply_pieces(
        self, checkpoint: PullCheckpoint, remaining: Remaining | None
    ) -> tuple[PullSummary, PullCheckpoint]:
        """Apply stored pieces from the checkpoint on, saving it after each, until done or
        the deadline is near (summary status `partial`)."""
        summary = PullSummary(servertime=checkpoint.servertime)
        for name, value in checkpoint.counts.items():
            if name in COUNTERS:
                setattr(summary, name, value)
        reverse = ReverseMappings(self._ctx.mappings)
        # Looked up per piece by id: the review list is never read whole (SPEC §9.3).
        known_unlinked: set[str] = set()
        while not checkpoint.finished:
            if self._out_of_time(remaining):
                summary.status = "partial"
                self._ctx.metrics.count("PullCheckpointed")
                break
            piece = [
                _visit_from(v)
                for v in self._ctx.pull_windows.chunk(checkpoint.window_id, checkpoint.next_chunk)
            ]
            known_unlinked |= self._ctx.appointments.unlinked_among([v.visit_id for v in piece])
            for visit in piece:
                self._apply_one(visit, reverse, known_unlinked, summary)
            checkpoint = checkpoint.model_copy(
                update={"next_chunk": checkpoint.next_chunk + 1, "counts": summary.counts()}
            )
            self._ctx.pull_windows.save_checkpoint(checkpoint)
        return summary, checkpoint

    def _fetch(self, op: Operation, since: str | None) -> PullSummary | PullCheckpoint:
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
        # Our own bookings between AMD's answer and our claim are not unlinked AMD visits.
        in_flight = {
            (b.advanced_md_patient_id, b.start) for b in self._ctx.appointments.list_in_flight()
        }
        visits = [v for v in visits if (v.patient_id, v.start) not in in_flight or self._owned(v)]
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

    def _apply_one(
        self,
        visit: AmdAppointment,
        reverse: ReverseMappings,
        known_unlinked: set[str],
        summary: PullSummary,
    ) -> None:
        try:
            self._apply(visit, reverse, known_unlinked, summary)
        except UnknownStatusError:
            # One visit in a status we cannot read must not stall every later pull: keep
            # it for review (unlinked list + log) and move on.
            summary.unreadable += 1
            self._record_unlinked(visit, known_unlinked, summary)
            self._ctx.metrics.count("UnknownAmdStatus")

    def _owned(self, visit: AmdAppointment) -> bool:
        return self._ctx.appointments.owner_of_visit(visit.visit_id) is not None

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

    def _apply(
        self,
        visit: AmdAppointment,
        reverse: ReverseMappings,
        known_unlinked: set[str],
        summary: PullSummary,
    ) -> None:
        owner = self._ctx.appointments.owner_of_visit(visit.visit_id)
        if owner is None:
            self._record_unlinked(visit, known_unlinked, summary)
            return
        for _ in range(MAX_STALE_RETRIES):
            stored = self._ctx.appointments.get(owner)
            if stored is None or stored.value.advanced_md_visit_id != visit.visit_id:
                return  # gone, or re-linked to the visit AMD moved it to
            amd_values = amd_snapshot(visit, reverse, self._ctx.practice_time, stored.value)
            merged = merge_with_amd(self._ctx, stored.value, amd_values, pushing=False)
            record = merged.record
            if merged.plan.has_conflict:
                record = record.model_copy(
                    update={
                        "amd_sync_status": "conflict",
                        "amd_sync_error_code": SyncErrorCode.CONFLICT,
                        "amd_sync_error": "changed in both systems; resolve in Conflicts",
                    }
                )
            record = record.model_copy(
                update={
                    "base_snapshot": merged.new_base,
                    "charges_posted": visit.charges_posted,
                }
            )
            if record == stored.value:
                return  # our own push coming back, or a repeat: nothing to do
            # Published before the save: a crash in between repeats the entry on the next
            # pull (at least once) instead of losing it (the saved base would hide it).
            merged.publish()
            charged = self._publish_charges(stored.value, visit)
            try:
                self._ctx.appointments.save(record, stored.version)
            except StaleWriteError:
                continue
            summary.charges += charged
            self._count(merged.plan.to_ehr, merged.plan.has_conflict, summary)
            if merged.plan.to_amd:
                self._ctx.queue.enqueue(
                    [
                        SyncJob(
                            kind="appointment",
                            entityId=owner,
                            version=record.ehr_version,
                            practice=self._ctx.practice,
                        )
                    ]
                )
                summary.pushes.append(owner)
            return

    def _publish_charges(self, record: AppointmentSyncRecord, visit: AmdAppointment) -> int:
        """A `charges` feed entry when AMD's ChargesPosted flips (1 if published)."""
        if visit.charges_posted == bool(record.charges_posted):
            return 0
        self._ctx.feed.append(
            [
                ChangeFeedEntry(
                    appointment_id=record.appointment_id,
                    advanced_md_visit_id=visit.visit_id,
                    kind="charges",
                    fields={"chargesPosted": visit.charges_posted},
                    at=self._ctx.clock.now(),
                )
            ]
        )
        return 1

    def _count(self, to_ehr: Mapping[str, object], conflict: bool, summary: PullSummary) -> None:
        if to_ehr:
            summary.updated += 1
        if to_ehr.get("status") == EhrStatus.CANCELLED.value:
            summary.cancelled += 1
        if conflict:
            summary.conflicts += 1

    def _record_unlinked(
        self, visit: AmdAppointment, known: set[str], summary: PullSummary
    ) -> None:
        now = self._ctx.clock.now()
        self._ctx.appointments.record_unlinked(
            UnlinkedAmdAppointment(
                advanced_md_visit_id=visit.visit_id,
                advanced_md_patient_id=visit.patient_id,
                start=visit.start,
                amd_status=visit.status_code,
                first_seen=now,
                last_seen=now,
            )
        )
        if visit.visit_id in known:
            return
        known.add(visit.visit_id)
        summary.unlinked += 1
        summary.created += 1
        self._ctx.feed.append(
            [
                ChangeFeedEntry(
                    advanced_md_visit_id=visit.visit_id,
                    kind="unlinked",
                    # AMD's practice-local wall time, so the zone it is in goes with it.
                    fields={
                        "start": visit.start,
                        "timeZone": self._ctx.timezone.key,
                        "amdStatus": visit.status_code,
                    },
                    at=now,
                )
            ]
        )


def _visit_from(stored: dict[str, Any]) -> AmdAppointment:
    return AmdAppointment(**{**stored, "unresolved": tuple(stored.get("unresolved", ()))})


def upcoming_range(now: datetime) -> tuple[str, str]:
    """The start-index range (naive local ISO) holding every appointment from `now` on: a
    day's slack below covers any zone's offset; the exact cut is `start_instant() >= now`."""
    return (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S"), "9999-12-31T23:59:59"
