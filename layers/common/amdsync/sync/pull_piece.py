"""Applying one stored piece of a pull window, in batches (SPEC §9.3, issue 15: ≥ 500 visits/s).

A piece is read with a handful of batched requests (the visits' owners, their records and which
unowned visits are already on the review list: BatchGetItem), merged in memory with the
settings and reverse mappings read once per run, and written in this order:

1. the change feed: every visit's entries in as few transactions as fit, exactly once per
   visit and piece (`ChangeFeed.append_once`: a replayed piece publishes only what it had not);
2. conflict records;
3. the records, each a single PutItem conditional on the version read — the guard against a
   concurrent EHR write. A BatchWriteItem cannot carry a condition, so these are not batched;
   the dashboard counters move once for the piece. A record that lost the race is merged again
   alone (re-read, its feed entries already published are not repeated);
4. new review items in one BatchWriteItem (plain puts: nothing concurrent writes them but a
   claim's delete, which an upsert would race the same way); a visit already on the list keeps
   the upsert that preserves its `firstSeen`;
5. push jobs for EHR-side changes still on their way, one enqueue for the piece.

Entries go out before the records are saved: a crash in between replays the piece (the
checkpoint has not moved), whose merge finds the same changes, and append_once skips them.
"""

from __future__ import annotations

from dataclasses import dataclass

from amdsync.domain.appointments import AppointmentSyncRecord
from amdsync.domain.concurrency import StaleWriteError, Versioned
from amdsync.domain.errors import SyncErrorCode, UnknownStatusError
from amdsync.domain.feed import ChangeFeedEntry
from amdsync.domain.review import UnlinkedAmdAppointment
from amdsync.domain.settings import Settings
from amdsync.domain.status import EhrStatus
from amdsync.jobs import SyncJob
from amdsync.sync.amd_view import amd_snapshot
from amdsync.sync.context import SyncContext
from amdsync.sync.merge import MergeOutcome, conflict_record, feed_entries, merge_with_amd
from amdsync.sync.ports import AmdAppointment
from amdsync.sync.pull_types import PullSummary
from amdsync.sync.resolve import ReverseMappings

MAX_STALE_RETRIES = 5


@dataclass
class _Change:
    """One owned visit's merge: the record to save over `stored`, and what to publish."""

    visit: AmdAppointment
    stored: Versioned[AppointmentSyncRecord]
    record: AppointmentSyncRecord
    merged: MergeOutcome
    entries: list[ChangeFeedEntry]
    charged: int


class PieceApplier:
    """Applies pieces of one run: settings, reverse mappings and the review-list ids it has
    seen are read once and kept across pieces."""

    def __init__(self, ctx: SyncContext, summary: PullSummary) -> None:
        self._ctx = ctx
        self._summary = summary
        self._settings: Settings = ctx.settings.get().value
        self._reverse = ReverseMappings(ctx.mappings)
        self._known_unlinked: set[str] = set()

    def apply(self, scope: str, piece: list[AmdAppointment]) -> None:
        appointments = self._ctx.appointments
        owners = appointments.owners_of_visits([v.visit_id for v in piece])
        records = appointments.get_many(sorted(set(owners.values())))
        unowned = [v.visit_id for v in piece if v.visit_id not in owners]
        self._known_unlinked |= appointments.unlinked_among(unowned) if unowned else set()
        changes: list[_Change] = []
        sightings: list[UnlinkedAmdAppointment] = []
        entries: dict[str, list[ChangeFeedEntry]] = {}
        for visit in piece:
            owner = owners.get(visit.visit_id)
            try:
                change = None if owner is None else self._merge(visit, records.get(owner))
            except UnknownStatusError:
                # One visit in a status we cannot read must not stall every later pull: keep
                # it for review (unlinked list + log) and move on.
                self._summary.unreadable += 1
                self._ctx.metrics.count("UnknownAmdStatus")
                owner = None
            if owner is None:
                sightings.append(self._sighting(visit, entries))
            elif change is not None:
                changes.append(change)
                entries[visit.visit_id] = change.entries
        self._ctx.feed.append_once(scope, entries)
        self._save(scope, changes)
        self._store_sightings(sightings)

    def _merge(
        self, visit: AmdAppointment, stored: Versioned[AppointmentSyncRecord] | None
    ) -> _Change | None:
        if stored is None or stored.value.advanced_md_visit_id != visit.visit_id:
            return None  # gone, or re-linked to the visit AMD moved it to
        amd_values = amd_snapshot(visit, self._reverse, self._ctx.practice_time, stored.value)
        merged = merge_with_amd(
            self._ctx, stored.value, amd_values, pushing=False, settings=self._settings
        )
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
            update={"base_snapshot": merged.new_base, "charges_posted": visit.charges_posted}
        )
        if record == stored.value:
            return None  # our own push coming back, or a repeat: nothing to do
        entries = feed_entries(self._ctx, merged.record, merged.plan.to_ehr)
        charges = self._charges_entry(stored.value, visit)
        return _Change(visit, stored, record, merged, entries + charges, len(charges))

    def _save(self, scope: str, changes: list[_Change]) -> None:
        for change in changes:
            if change.merged.plan.has_conflict:
                self._ctx.conflicts.put(conflict_record(self._ctx, change.record, change.merged))
        versions, stale = self._ctx.appointments.save_each(
            [(c.record, c.stored.version) for c in changes]
        )
        jobs: list[SyncJob] = []
        for change in changes:
            if change.record.appointment_id in versions:
                jobs.extend(self._saved(change))
        for change in changes:
            if change.record.appointment_id in stale:
                jobs.extend(self._apply_alone(scope, change.visit))
        if jobs:
            self._ctx.queue.enqueue(jobs)

    def _apply_alone(self, scope: str, visit: AmdAppointment) -> list[SyncJob]:
        """A record an EHR write changed since the piece was read: read and merge it again."""
        owner = self._ctx.appointments.owner_of_visit(visit.visit_id)
        for _ in range(MAX_STALE_RETRIES):
            stored = None if owner is None else self._ctx.appointments.get(owner)
            change = self._merge(visit, stored)
            if change is None:
                return []
            self._ctx.feed.append_once(scope, {visit.visit_id: change.entries})
            if change.merged.plan.has_conflict:
                self._ctx.conflicts.put(conflict_record(self._ctx, change.record, change.merged))
            try:
                self._ctx.appointments.save(change.record, change.stored.version)
            except StaleWriteError:
                continue
            return self._saved(change)
        return []

    def _saved(self, change: _Change) -> list[SyncJob]:
        """Count a saved change; the push job when EHR-side changes still have to reach AMD."""
        summary, plan = self._summary, change.merged.plan
        summary.charges += change.charged
        summary.updated += 1 if plan.to_ehr else 0
        summary.cancelled += 1 if plan.to_ehr.get("status") == EhrStatus.CANCELLED.value else 0
        summary.conflicts += 1 if plan.has_conflict else 0
        if not plan.to_amd:
            return []
        owner = change.record.appointment_id
        summary.pushes.append(owner)
        return [
            SyncJob(
                kind="appointment",
                entityId=owner,
                version=change.record.ehr_version,
                practice=self._ctx.practice,
            )
        ]

    def _charges_entry(
        self, record: AppointmentSyncRecord, visit: AmdAppointment
    ) -> list[ChangeFeedEntry]:
        """A `charges` feed entry when AMD's ChargesPosted flips."""
        if visit.charges_posted == bool(record.charges_posted):
            return []
        return [
            ChangeFeedEntry(
                appointment_id=record.appointment_id,
                advanced_md_visit_id=visit.visit_id,
                kind="charges",
                fields={"chargesPosted": visit.charges_posted},
                at=self._ctx.clock.now(),
            )
        ]

    def _sighting(
        self, visit: AmdAppointment, entries: dict[str, list[ChangeFeedEntry]]
    ) -> UnlinkedAmdAppointment:
        """The review item of an unowned visit; the first sighting also gets a feed entry."""
        now = self._ctx.clock.now()
        if visit.visit_id not in self._known_unlinked:
            self._summary.unlinked += 1
            self._summary.created += 1
            entries[visit.visit_id] = [
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
        return UnlinkedAmdAppointment(
            advanced_md_visit_id=visit.visit_id,
            advanced_md_patient_id=visit.patient_id,
            start=visit.start,
            amd_status=visit.status_code,
            first_seen=now,
            last_seen=now,
        )

    def _store_sightings(self, sightings: list[UnlinkedAmdAppointment]) -> None:
        known = self._known_unlinked
        fresh = [s for s in sightings if s.advanced_md_visit_id not in known]
        self._ctx.appointments.record_new_unlinked(fresh)
        for sighting in sightings:
            if sighting.advanced_md_visit_id in known:
                self._ctx.appointments.record_unlinked(sighting)  # keeps its firstSeen
        known |= {s.advanced_md_visit_id for s in fresh}
