"""Appointment sync records, AMD visit-id claims, and unlinked AMD appointments (sync table)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from amdsync.domain.appointments import AppointmentSyncRecord
from amdsync.domain.concurrency import Versioned
from amdsync.domain.review import UnlinkedAmdAppointment
from amdsync.store import keys
from amdsync.store.dynamo import (
    from_dynamo,
    is_condition_failure,
    put_versioned,
    query_all,
    to_dynamo,
)

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

    def list_all(self) -> list[AppointmentSyncRecord]:
        condition = Key("gsi1pk").eq(keys.appointments_index(self._practice))
        return [v.value for v in _query_all(self._table, condition)]

    def claim_visit(self, visit_id: str, appointment_id: str) -> str:
        """Bind an AMD visit id to one appointment; returns the owner (ours or an earlier one).

        The conditional put makes `advancedMDVisitId` unique across records even when two
        workers race.
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
            return owner if owner is not None else appointment_id
        return appointment_id

    def owner_of_visit(self, visit_id: str) -> str | None:
        key = {"pk": keys.visit_owner(self._practice, visit_id), "sk": "OWNER"}
        item = self._table.get_item(Key=key, ConsistentRead=True).get("Item")
        return None if item is None else str(item["appointmentId"])

    def record_unlinked(self, unlinked: UnlinkedAmdAppointment) -> None:
        item = {
            "pk": keys.unlinked(self._practice),
            "sk": unlinked.advanced_md_visit_id,
            "data": unlinked.model_dump(mode="json"),
        }
        self._table.put_item(Item=to_dynamo(item))

    def list_unlinked(self) -> list[UnlinkedAmdAppointment]:
        condition = Key("pk").eq(keys.unlinked(self._practice))
        items = query_all(self._table, condition)
        return [UnlinkedAmdAppointment.model_validate(from_dynamo(i["data"])) for i in items]


def _versioned(item: dict[str, Any]) -> Versioned[AppointmentSyncRecord]:
    record = AppointmentSyncRecord.model_validate(from_dynamo(item["data"]))
    return Versioned(record, int(from_dynamo(item["version"])))


def _query_all(table: Table, condition: Any) -> list[Versioned[AppointmentSyncRecord]]:
    return [_versioned(item) for item in query_all(table, condition, index="gsi1")]
