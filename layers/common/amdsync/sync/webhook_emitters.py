"""Webhook events raised where their outcomes are recorded: the change feed, the sync log and
the conflict store. Each wrapper stores first and publishes after, so an event never announces
something that was not stored; composition wraps the context's stores with them.

- a change appended to the feed        -> `appointment.changed` (body = the `/changes` entry)
- a sync log entry of a push or patient sync: success -> `appointment.synced` /
  `patient.synced`; error -> `appointment.sync_failed` / `patient.sync_failed` (one per failed
  attempt; deferrals for rate budget are not failures)
- a conflict stored open that was not open before -> `conflict.opened`

Bodies carry ids, codes and field names only, never PHI. Each wrapper defines only the write it
announces; every other call goes to the wrapped store unchanged (`Announcing`), so the stores'
read signatures live in their ports and adapters alone.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from amdsync.domain.feed import ChangeFeedEntry, PublishedChange
from amdsync.domain.journal import SyncLogEntry
from amdsync.domain.review import ConflictRecord
from amdsync.domain.webhooks import EventType
from amdsync.sync.ports import ChangeFeed, ConflictStore, SyncLogs
from amdsync.sync.webhooks import WebhookPublisher

OUTCOME_EVENTS = {
    ("appointment", "success"): EventType.APPOINTMENT_SYNCED,
    ("appointment", "error"): EventType.APPOINTMENT_SYNC_FAILED,
    ("patient", "success"): EventType.PATIENT_SYNCED,
    ("patient", "error"): EventType.PATIENT_SYNC_FAILED,
}


Store = TypeVar("Store")


class Announcing(Generic[Store]):
    """A store with a publisher beside it: what the subclass does not define is the store's."""

    def __init__(self, inner: Store, publisher: WebhookPublisher) -> None:
        self._inner = inner
        self._publisher = publisher

    def __getattr__(self, name: str) -> Any:
        if name in ("_inner", "_publisher"):  # not set yet (copy, unpickle): no recursion
            raise AttributeError(name)
        return getattr(self._inner, name)


def change_entry(change: PublishedChange) -> dict[str, Any]:
    """The change as `GET /changes` lists it (its cursor instead of the sequence number)."""
    body = change.model_dump(mode="json", by_alias=True, exclude={"sequence"})
    return {"cursor": change.cursor, **body}


def appointment_group(appointment_id: str | None, visit_id: str | None = None) -> str:
    """Events of one appointment share a group (delivered in order); an AMD visit we hold no
    appointment for is its own group."""
    return appointment_id if appointment_id else f"visit:{visit_id}"


class FeedWithWebhooks(Announcing[ChangeFeed]):
    def append(self, entries: list[ChangeFeedEntry]) -> list[PublishedChange]:
        return self._announce(self._inner.append(entries))

    def append_once(
        self, scope: str, sources: dict[str, list[ChangeFeedEntry]]
    ) -> list[PublishedChange]:
        """Only what was published now is announced: a replay's skipped entries were already."""
        return self._announce(self._inner.append_once(scope, sources))

    def _announce(self, published: list[PublishedChange]) -> list[PublishedChange]:
        for change in published:
            self._publisher.publish(
                EventType.APPOINTMENT_CHANGED,
                appointment_group(change.appointment_id, change.advanced_md_visit_id),
                lambda change=change: change_entry(change),  # type: ignore[misc]
            )
        return published


class LogsWithWebhooks(Announcing[SyncLogs]):
    def append(self, entry: SyncLogEntry) -> None:
        self._inner.append(entry)
        event_type = OUTCOME_EVENTS.get((entry.entity_type, entry.outcome))
        if event_type is None:
            return
        is_patient = entry.entity_type == "patient"
        group = f"patient:{entry.entity_id}" if is_patient else entry.entity_id
        self._publisher.publish(event_type, group, lambda: outcome_body(entry))


def outcome_body(entry: SyncLogEntry) -> dict[str, Any]:
    id_field = "patientId" if entry.entity_type == "patient" else "appointmentId"
    body: dict[str, Any] = {
        id_field: entry.entity_id,
        "at": entry.at.isoformat(),
        "syncLogId": entry.id,
    }
    if entry.outcome == "error":
        body["errorCode"] = entry.error_code.value if entry.error_code else None
        body["error"] = entry.message  # sanitized by the journal (ids and codes only)
    return body


class ConflictsWithWebhooks(Announcing[ConflictStore]):
    def put(self, conflict: ConflictRecord) -> None:
        before = self._inner.get(conflict.conflict_id) if conflict.state == "open" else None
        self._inner.put(conflict)
        if conflict.state == "open" and (before is None or before.state != "open"):
            self._publisher.publish(
                EventType.CONFLICT_OPENED,
                appointment_group(conflict.appointment_id),
                lambda: conflict_body(conflict),
            )


def conflict_body(conflict: ConflictRecord) -> dict[str, Any]:
    return {
        "conflictId": conflict.conflict_id,
        "appointmentId": conflict.appointment_id,
        "advancedMDVisitId": conflict.advanced_md_visit_id,
        "fields": sorted(conflict.fields),
        "detectedAt": conflict.detected_at.isoformat(),
    }
