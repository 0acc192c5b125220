"""Patient sync records and the minimum demographics needed to find or create the AMD patient.

Demographics are PHI: they live in their own item (encrypted at rest by the table's KMS SSE),
are read only by the patient sync, and are deleted once the patient is in AMD (SPEC §3: held
only as long as needed). The record keeps their hash, so a later PUT with changes is noticed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from boto3.dynamodb.conditions import Key

from amdsync.domain.concurrency import Versioned
from amdsync.domain.patients import PatientDemographics, PatientSyncRecord
from amdsync.store import keys
from amdsync.store.dynamo import from_dynamo, put_versioned, query_all, to_dynamo

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

DEMOGRAPHICS = "DEMOGRAPHICS"


class DynamoPatients:
    def __init__(self, table: Table, practice: str) -> None:
        self._table = table
        self._practice = practice

    def get(self, patient_id: str) -> Versioned[PatientSyncRecord] | None:
        key = {"pk": keys.patient(self._practice, patient_id), "sk": keys.RECORD}
        item = self._table.get_item(Key=key, ConsistentRead=True).get("Item")
        if item is None:
            return None
        record = PatientSyncRecord.model_validate(from_dynamo(item["data"]))
        return Versioned(record, int(from_dynamo(item["version"])))

    def save(self, record: PatientSyncRecord, expected_version: int | None) -> int:
        item = {
            "pk": keys.patient(self._practice, record.patient_id),
            "sk": keys.RECORD,
            "gsi1pk": keys.patients_index(self._practice),
            "gsi1sk": record.patient_id,
            "data": record.model_dump(mode="json"),
        }
        return put_versioned(self._table, item, expected_version)

    def list_all(self) -> list[PatientSyncRecord]:
        condition = Key("gsi1pk").eq(keys.patients_index(self._practice))
        items = query_all(self._table, condition, index="gsi1")
        return [PatientSyncRecord.model_validate(from_dynamo(i["data"])) for i in items]

    def put_demographics(self, patient_id: str, demographics: PatientDemographics) -> None:
        item = {
            "pk": keys.patient(self._practice, patient_id),
            "sk": DEMOGRAPHICS,
            "data": demographics.model_dump(mode="json"),
        }
        self._table.put_item(Item=to_dynamo(item))

    def get_demographics(self, patient_id: str) -> PatientDemographics | None:
        key = {"pk": keys.patient(self._practice, patient_id), "sk": DEMOGRAPHICS}
        item = self._table.get_item(Key=key, ConsistentRead=True).get("Item")
        if item is None:
            return None
        return PatientDemographics.model_validate(from_dynamo(item["data"]))

    def forget_demographics(self, patient_id: str) -> None:
        key = {"pk": keys.patient(self._practice, patient_id), "sk": DEMOGRAPHICS}
        self._table.delete_item(Key=key)
