"""Appointment sync records, AMD visit-id claims, and unlinked AMD appointments (sync table)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from amdsync.domain.aggregates import record_keys
from amdsync.domain.appointments import AppointmentSyncRecord
from amdsync.domain.concurrency import StaleWriteError, Versioned
from amdsync.domain.errors import SyncErrorCode
from amdsync.domain.review import BookingInFlight, UnlinkedAmdAppointment
from amdsync.store import keys
from amdsync.store.amd_keys import epoch
from amdsync.store.counters import COUNTED, RecordCounters
from amdsync.store.dynamo import (
    batch_get,
    from_dynamo,
    is_condition_failure,
    put_versioned_old,
    query_all,
    query_page,
    to_dynamo,
)

# Long past any booking's retries (the queue's retry budget is minutes to hours).
IN_FLIGHT_TTL = timedelta(days=1)
# An unlinked AMD visit stays for review until claimed or this long after its start: the
# review list holds upcoming and recent visits, not every one AMD ever showed us.
UNLINKED_TTL_AFTER_START = timedelta(days=14)
WAITING_INDEX = "gsi2"

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


class DynamoAppointments:
    def __init__(self, table: Table, practice: str) -> None:
        self._table = table
        self._practice = practice
        self._counters = RecordCounters(table, practice, "APPOINTMENTS")

    def get(self, appointment_id: str) -> Versioned[AppointmentSyncRecord] | None:
        key = {"pk": keys.appointment(self._practice, appointment_id), "sk": keys.RECORD}
        item = self._table.get_item(Key=key, ConsistentRead=True).get("Item")
        if item is None:
            return None
        return _versioned(item)

    def get_many(self, appointment_ids: list[str]) -> dict[str, Versioned[AppointmentSyncRecord]]:
        """The records that exist among these ids: consistent batched reads (BatchGetItem)."""
        keyed = {keys.appointment(self._practice, a): a for a in appointment_ids}
        items = batch_get(self._table, [{"pk": pk, "sk": keys.RECORD} for pk in keyed], None)
        return {keyed[str(i["pk"])]: _versioned(i) for i in items}

    def save(self, record: AppointmentSyncRecord, expected_version: int | None) -> int:
        """Conditional on `expected_version` (None = create); raises StaleWriteError. Moves
        the dashboard counters from the replaced record to this one."""
        version, moved = self._put(record, expected_version)
        self._counters.move(*moved)
        return version

    def save_each(
        self, saves: list[tuple[AppointmentSyncRecord, int]]
    ) -> tuple[dict[str, int], list[str]]:
        """Many saves (the pull's piece): each put stays conditional on its version — the guard
        against a concurrent EHR write, which a BatchWriteItem could not carry — but the
        dashboard counters move once for all of them. Returns (new versions by id, stale ids)."""
        versions: dict[str, int] = {}
        stale: list[str] = []
        moves: list[_Move] = []
        for record, expected in saves:
            try:
                version, moved = self._put(record, expected)
            except StaleWriteError:
                stale.append(record.appointment_id)
                continue
            versions[record.appointment_id] = version
            moves.append(moved)
        self._counters.move_all(moves)
        return versions, stale

    def create_many(self, records: list[AppointmentSyncRecord]) -> None:
        """New records (version 1) in batch writes, counted once per batch: for loading many
        records known not to exist yet (an import, a test's seed). Unconditional: an existing
        record with the same id would be overwritten, so `save` stays the path for anything
        that may already be stored."""
        if not records:
            return
        items = [self._item(record) for record in records]
        with self._table.batch_writer() as batch:
            for item in items:
                batch.put_item(Item=to_dynamo({**item, "version": 1}))
        self._counters.move_all([_moved(None, item) for item in items])

    def _put(
        self, record: AppointmentSyncRecord, expected_version: int | None
    ) -> tuple[int, _Move]:
        item = self._item(record)
        version, old = put_versioned_old(self._table, item, expected_version)
        return version, _moved(old, item)

    def _item(self, record: AppointmentSyncRecord) -> dict[str, Any]:
        item: dict[str, Any] = {
            "pk": keys.appointment(self._practice, record.appointment_id),
            "sk": keys.RECORD,
            "gsi1pk": keys.appointments_index(self._practice),
            "gsi1sk": f"{record.start}#{record.appointment_id}",
            "data": record.model_dump(mode="json"),
            COUNTED: True,
        }
        if record.amd_sync_error_code is SyncErrorCode.PATIENT_NOT_SYNCED:
            # Sparse index: only appointments waiting on their patient are in it.
            item["gsi2pk"] = keys.waiting_on_patient(self._practice, record.patient_id)
            item["gsi2sk"] = record.appointment_id
        return item

    def waiting_on_patient(self, patient_id: str) -> list[AppointmentSyncRecord]:
        """Appointments whose sync waits for this patient to reach AMD (a query, no scan)."""
        condition = Key("gsi2pk").eq(keys.waiting_on_patient(self._practice, patient_id))
        items = query_all(self._table, condition, index=WAITING_INDEX)
        return [_versioned(i).value for i in items]

    def counts(self) -> tuple[dict[str, int], str | None]:
        """The dashboard counters (domain/aggregates.py) and the newest sync time."""
        return self._counters.read()

    def rebuild_counts(self) -> None:
        """Recount every record into the counters: an operator's one-off (reads them all)."""
        items = self._all_items()
        synced = [
            str(i["data"]["lastSyncedToAMD"]) for i in items if i["data"].get("lastSyncedToAMD")
        ]
        self._counters.rebuild(
            [_card_keys({**i, COUNTED: True}) for i in items], max(synced, default=None)
        )

    def _all_items(self) -> list[dict[str, Any]]:
        condition = Key("gsi1pk").eq(keys.appointments_index(self._practice))
        return query_all(self._table, condition, index="gsi1")

    def list_between(self, start_from: str, start_to: str) -> list[AppointmentSyncRecord]:
        """Records whose local start is in [start_from, start_to) (naive local ISO strings)."""
        condition = Key("gsi1pk").eq(keys.appointments_index(self._practice)) & Key(
            "gsi1sk"
        ).between(start_from, start_to)
        return [v.value for v in _query_all(self._table, condition)]

    def page_between(
        self, start_from: str, start_to: str, limit: int, cursor: str | None = None
    ) -> tuple[list[AppointmentSyncRecord], str | None]:
        """One page of the start-time index (a query with Limit, never a scan)."""
        condition = Key("gsi1pk").eq(keys.appointments_index(self._practice)) & Key(
            "gsi1sk"
        ).between(start_from, start_to)
        items, after = query_page(self._table, condition, limit, cursor, index="gsi1")
        return [_versioned(item).value for item in items], after

    def list_all(self) -> list[AppointmentSyncRecord]:
        """Every record: tools and tests only (request paths and pulls query a range)."""
        return [_versioned(i).value for i in self._all_items()]

    def claim_visit(self, visit_id: str, appointment_id: str) -> str:
        """Bind an AMD visit id to one appointment; returns the owner (ours or an earlier one).

        The conditional put makes `advancedMDVisitId` unique across records even when two
        workers race. A claimed visit is no longer unlinked, so its review item goes.
        """
        item = {
            "pk": keys.visit_owner(self._practice, visit_id),
            "sk": "OWNER",
            "appointmentId": appointment_id,
        }
        try:
            self._table.put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise
            owner = self.owner_of_visit(visit_id)
            if owner not in (None, appointment_id):
                return owner
        self._table.delete_item(Key={"pk": keys.unlinked(self._practice), "sk": visit_id})
        return appointment_id

    def owners_of_visits(self, visit_ids: list[str]) -> dict[str, str]:
        """Owners of these visit ids (those claimed): batched consistent reads."""
        items = batch_get(
            self._table,
            [{"pk": keys.visit_owner(self._practice, v), "sk": "OWNER"} for v in set(visit_ids)],
            None,
        )
        prefix = keys.visit_owner(self._practice, "")
        return {str(i["pk"])[len(prefix) :]: str(i["appointmentId"]) for i in items}

    def owner_of_visit(self, visit_id: str) -> str | None:
        key = {"pk": keys.visit_owner(self._practice, visit_id), "sk": "OWNER"}
        item = self._table.get_item(Key=key, ConsistentRead=True).get("Item")
        return None if item is None else str(item["appointmentId"])

    def record_unlinked(self, unlinked: UnlinkedAmdAppointment) -> None:
        """Upsert; `firstSeen` is set by the first sighting only (later ones refresh the rest).
        Expires UNLINKED_TTL_AFTER_START after the visit's start (bounded review list)."""
        data = unlinked.model_dump(mode="json")
        self._table.update_item(
            Key={"pk": keys.unlinked(self._practice), "sk": unlinked.advanced_md_visit_id},
            UpdateExpression=(
                "SET #data = :data, firstSeen = if_not_exists(firstSeen, :first), expiresAt = :exp"
            ),
            ExpressionAttributeNames={"#data": "data"},
            ExpressionAttributeValues={
                ":data": to_dynamo(data),
                ":first": data["firstSeen"],
                ":exp": _unlinked_expiry(unlinked),
            },
        )

    def record_new_unlinked(self, unlinked: list[UnlinkedAmdAppointment]) -> None:
        """Visits not yet on the review list (the caller read `unlinked_among`), in batches:
        plain puts, `firstSeen` being this sighting. A put may only race a claim's delete of the
        same item, exactly as `record_unlinked`'s upsert does (the pull holds its lease)."""
        with self._table.batch_writer(overwrite_by_pkeys=["pk", "sk"]) as batch:
            for visit in unlinked:
                data = visit.model_dump(mode="json")
                batch.put_item(
                    Item={
                        "pk": keys.unlinked(self._practice),
                        "sk": visit.advanced_md_visit_id,
                        "data": to_dynamo(data),
                        "firstSeen": data["firstSeen"],
                        "expiresAt": _unlinked_expiry(visit),
                    }
                )

    def unlinked_among(self, visit_ids: list[str]) -> set[str]:
        """Which of these visit ids are already on the review list (batched gets, no query of
        the whole list)."""
        pk = keys.unlinked(self._practice)
        items = batch_get(self._table, [{"pk": pk, "sk": v} for v in sorted(set(visit_ids))], "sk")
        return {str(i["sk"]) for i in items}

    def list_unlinked(self) -> list[UnlinkedAmdAppointment]:
        condition = Key("pk").eq(keys.unlinked(self._practice))
        return [
            UnlinkedAmdAppointment.model_validate(
                {**from_dynamo(i["data"]), "firstSeen": i.get("firstSeen", i["data"]["firstSeen"])}
            )
            for i in query_all(self._table, condition)
        ]

    def mark_in_flight(self, booking: BookingInFlight) -> None:
        """Before AMD is asked to book; cleared once the visit id is claimed. The TTL is a
        backstop for a booking whose job was dead-lettered before it could clear it."""
        item = {
            "pk": keys.in_flight(self._practice),
            "sk": booking.appointment_id,
            "data": booking.model_dump(mode="json"),
            "expiresAt": epoch(datetime.now(UTC) + IN_FLIGHT_TTL),
        }
        self._table.put_item(Item=to_dynamo(item))

    def clear_in_flight(self, appointment_id: str) -> None:
        self._table.delete_item(Key={"pk": keys.in_flight(self._practice), "sk": appointment_id})

    def list_in_flight(self) -> list[BookingInFlight]:
        condition = Key("pk").eq(keys.in_flight(self._practice))
        items = query_all(self._table, condition)
        return [BookingInFlight.model_validate(from_dynamo(i["data"])) for i in items]


def _unlinked_expiry(unlinked: UnlinkedAmdAppointment) -> int:
    """`start` is AMD's naive practice-local time: a day's slack covers any zone offset. A
    visit without a readable start is kept as long after it was last seen."""
    if unlinked.start is None:
        return epoch(unlinked.last_seen + UNLINKED_TTL_AFTER_START)
    local = datetime.fromisoformat(unlinked.start).replace(tzinfo=UTC)
    return epoch(local + UNLINKED_TTL_AFTER_START + timedelta(days=1))


# A counter move: the cards the replaced item counted in (None: none), the new item's, its sync.
_Move = tuple[set[str] | None, set[str], str | None]


def _moved(old: dict[str, Any] | None, new: dict[str, Any]) -> _Move:
    return _card_keys(old), _card_keys(new) or set(), new["data"].get("lastSyncedToAMD")


def _card_keys(item: dict[str, Any] | None) -> set[str] | None:
    """The dashboard counters a stored item counts in (None: it was never counted)."""
    if item is None or not item.get(COUNTED):
        return None
    data = item["data"]
    return record_keys(str(data["amdSyncStatus"]), data.get("status"), data.get("chargesPosted"))


def _versioned(item: dict[str, Any]) -> Versioned[AppointmentSyncRecord]:
    record = AppointmentSyncRecord.model_validate(from_dynamo(item["data"]))
    return Versioned(record, int(from_dynamo(item["version"])))


def _query_all(table: Table, condition: Any) -> list[Versioned[AppointmentSyncRecord]]:
    return [_versioned(item) for item in query_all(table, condition, index="gsi1")]
