"""Appointment sync records, AMD visit-id claims, and unlinked AMD appointments (sync table)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from amdsync.domain.appointments import AppointmentSyncRecord
from amdsync.domain.concurrency import Versioned
from amdsync.domain.review import BookingInFlight, UnlinkedAmdAppointment
from amdsync.store import keys
from amdsync.store.amd_keys import epoch
from amdsync.store.dynamo import (
    from_dynamo,
    is_condition_failure,
    put_versioned,
    query_all,
    query_page,
    to_dynamo,
)

# Long past any booking's retries (the queue's retry budget is minutes to hours).
IN_FLIGHT_TTL = timedelta(days=1)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


class DynamoAppointments:
    def __init__(self, table: Table, practice: str) -> None:
        self._table = table
        self._practice = practice

    def get(self, appointment_id: str) -> Versioned[AppointmentSyncRecord] | None:
        key = {"pk": keys.appointment(self._practice, appointment_id), "sk": keys.RECORD}
        item = self._table.get_item(Key=key, ConsistentRead=True).get("Item")
        if item is None:
            return None
        return _versioned(item)

    def save(self, record: AppointmentSyncRecord, expected_version: int | None) -> int:
        """Conditional on `expected_version` (None = create); raises StaleWriteError."""
        item = {
            "pk": keys.appointment(self._practice, record.appointment_id),
            "sk": keys.RECORD,
            "gsi1pk": keys.appointments_index(self._practice),
            "gsi1sk": f"{record.start}#{record.appointment_id}",
            "data": record.model_dump(mode="json"),
        }
        return put_versioned(self._table, item, expected_version)

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
        condition = Key("gsi1pk").eq(keys.appointments_index(self._practice))
        return [v.value for v in _query_all(self._table, condition)]

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

    def owner_of_visit(self, visit_id: str) -> str | None:
        key = {"pk": keys.visit_owner(self._practice, visit_id), "sk": "OWNER"}
        item = self._table.get_item(Key=key, ConsistentRead=True).get("Item")
        return None if item is None else str(item["appointmentId"])

    def record_unlinked(self, unlinked: UnlinkedAmdAppointment) -> None:
        """Upsert; `firstSeen` is set by the first sighting only (later ones refresh the rest)."""
        data = unlinked.model_dump(mode="json")
        self._table.update_item(
            Key={"pk": keys.unlinked(self._practice), "sk": unlinked.advanced_md_visit_id},
            UpdateExpression="SET #data = :data, firstSeen = if_not_exists(firstSeen, :first)",
            ExpressionAttributeNames={"#data": "data"},
            ExpressionAttributeValues={":data": to_dynamo(data), ":first": data["firstSeen"]},
        )

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


def _versioned(item: dict[str, Any]) -> Versioned[AppointmentSyncRecord]:
    record = AppointmentSyncRecord.model_validate(from_dynamo(item["data"]))
    return Versioned(record, int(from_dynamo(item["version"])))


def _query_all(table: Table, condition: Any) -> list[Versioned[AppointmentSyncRecord]]:
    return [_versioned(item) for item in query_all(table, condition, index="gsi1")]
