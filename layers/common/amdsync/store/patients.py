"""Patient sync records and the minimum demographics needed to find or create the AMD patient.

Demographics are PHI: they live in their own item (encrypted at rest by the table's KMS SSE),
are read only by the patient sync, and are deleted once the patient is in AMD (SPEC §3: held
only as long as needed). The record keeps their hash, so a later PUT with changes is noticed.

The item carries the `ehrVersion` and fingerprint it holds, so writes are conditional on them:
an older registration arriving last never replaces a newer one, and a sync forgets only the
version it sent, never a newer registration that arrived meanwhile.

The CREATE_INTENT item (name and date of birth only, also PHI, same TTL backstop) says whom
we asked AMD to create; it is deleted once the AMD id is stored on the record.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from amdsync.domain.concurrency import StaleWriteError, Versioned
from amdsync.domain.patients import (
    PatientCreateIntent,
    PatientDemographics,
    PatientSyncRecord,
)
from amdsync.store import keys
from amdsync.store.amd_keys import epoch
from amdsync.store.dynamo import (
    from_dynamo,
    is_condition_failure,
    put_versioned,
    query_all,
    to_dynamo,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

DEMOGRAPHICS = "DEMOGRAPHICS"
CREATE_INTENT = "CREATE_INTENT"
# A backstop, not the rule: the sync deletes demographics as soon as AMD has them. This only
# bounds how long PHI can outlive a sync that never finishes (a week covers a long weekend
# plus a few days of failing retries); a later PUT with a new version stores them again.
DEMOGRAPHICS_TTL = timedelta(days=7)
# Written only by a newer registration, or by a replay of the same one.
_NEWER_OR_SAME = (
    "attribute_not_exists(ehrVersion) OR ehrVersion < :version"
    " OR (ehrVersion = :version AND fingerprint = :fingerprint)"
)
_NOT_NEWER = "attribute_not_exists(ehrVersion) OR ehrVersion <= :version"


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

    def put_demographics(
        self, patient_id: str, demographics: PatientDemographics, fingerprint: str
    ) -> None:
        """Hold the demographics to sync with the caller's `fingerprint` of them (keyed: the
        store never sees the key); StaleWriteError when a newer version is held, or the same
        version with other content."""
        item = {
            "pk": keys.patient(self._practice, patient_id),
            "sk": DEMOGRAPHICS,
            "ehrVersion": demographics.ehr_version,
            "fingerprint": fingerprint,
            # Real time, not the product's clock: DynamoDB judges TTLs by real time.
            "expiresAt": epoch(datetime.now(UTC) + DEMOGRAPHICS_TTL),
            "data": demographics.model_dump(mode="json"),
        }
        values: dict[str, str | int] = {
            ":version": demographics.ehr_version,
            ":fingerprint": fingerprint,
        }
        try:
            self._table.put_item(
                Item=to_dynamo(item),
                ConditionExpression=_NEWER_OR_SAME,
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                raise StaleWriteError(item["pk"]) from None
            raise

    def get_demographics(self, patient_id: str) -> PatientDemographics | None:
        key = {"pk": keys.patient(self._practice, patient_id), "sk": DEMOGRAPHICS}
        item = self._table.get_item(Key=key, ConsistentRead=True).get("Item")
        if item is None:
            return None
        return PatientDemographics.model_validate(from_dynamo(item["data"]))

    def forget_demographics(self, patient_id: str, ehr_version: int) -> None:
        """Delete the demographics a sync sent (`ehr_version` or older); a newer registration
        that arrived meanwhile is kept for its own sync."""
        key = {"pk": keys.patient(self._practice, patient_id), "sk": DEMOGRAPHICS}
        try:
            self._table.delete_item(
                Key=key,
                ConditionExpression=_NOT_NEWER,
                ExpressionAttributeValues={":version": ehr_version},
            )
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise

    def mark_create_intent(self, patient_id: str, intent: PatientCreateIntent) -> None:
        item = {
            "pk": keys.patient(self._practice, patient_id),
            "sk": CREATE_INTENT,
            "expiresAt": epoch(datetime.now(UTC) + DEMOGRAPHICS_TTL),  # real time (TTL)
            "data": intent.model_dump(mode="json"),
        }
        self._table.put_item(Item=to_dynamo(item))

    def get_create_intent(self, patient_id: str) -> PatientCreateIntent | None:
        key = {"pk": keys.patient(self._practice, patient_id), "sk": CREATE_INTENT}
        item = self._table.get_item(Key=key, ConsistentRead=True).get("Item")
        if item is None:
            return None
        return PatientCreateIntent.model_validate(from_dynamo(item["data"]))

    def clear_create_intent(self, patient_id: str) -> None:
        key = {"pk": keys.patient(self._practice, patient_id), "sk": CREATE_INTENT}
        self._table.delete_item(Key=key)
