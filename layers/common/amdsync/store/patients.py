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
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from amdsync.domain.aggregates import record_keys
from amdsync.domain.concurrency import StaleWriteError, Versioned
from amdsync.domain.patients import (
    PatientCreateIntent,
    PatientDemographics,
    PatientSyncRecord,
)
from amdsync.store import keys
from amdsync.store.amd_keys import epoch
from amdsync.store.counters import COUNTED, RecordCounters
from amdsync.store.dynamo import (
    from_dynamo,
    is_condition_failure,
    put_versioned_old,
    query_all,
    query_page,
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
        self._counters = RecordCounters(table, practice, "PATIENTS")

    def get(self, patient_id: str) -> Versioned[PatientSyncRecord] | None:
        key = {"pk": keys.patient(self._practice, patient_id), "sk": keys.RECORD}
        item = self._table.get_item(Key=key, ConsistentRead=True).get("Item")
        if item is None:
            return None
        record = PatientSyncRecord.model_validate(from_dynamo(item["data"]))
        return Versioned(record, int(from_dynamo(item["version"])))

    def save(self, record: PatientSyncRecord, expected_version: int | None) -> int:
        data = record.model_dump(mode="json")
        item: dict[str, Any] = {
            "pk": keys.patient(self._practice, record.patient_id),
            "sk": keys.RECORD,
            "gsi1pk": keys.patients_index(self._practice),
            "gsi1sk": record.patient_id,
            "data": data,
            COUNTED: True,
        }
        version, old = put_versioned_old(self._table, item, expected_version)
        self._counters.move(_card_keys(old), _card_keys(item) or set(), data.get("lastSyncedToAMD"))
        return version

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

    def page(
        self, limit: int, cursor: str | None = None
    ) -> tuple[list[PatientSyncRecord], str | None]:
        """One page of the patients index, by patient id (a query with Limit, never a scan)."""
        condition = Key("gsi1pk").eq(keys.patients_index(self._practice))
        items, after = query_page(self._table, condition, limit, cursor, index="gsi1")
        return [PatientSyncRecord.model_validate(from_dynamo(i["data"])) for i in items], after

    def list_all(self) -> list[PatientSyncRecord]:
        """Every record: tools and tests only (request paths page through `page`)."""
        return [PatientSyncRecord.model_validate(from_dynamo(i["data"])) for i in self._all_items()]

    def _all_items(self) -> list[dict[str, Any]]:
        condition = Key("gsi1pk").eq(keys.patients_index(self._practice))
        return query_all(self._table, condition, index="gsi1")

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


def _card_keys(item: dict[str, Any] | None) -> set[str] | None:
    """The dashboard counters a stored item counts in (None: it was never counted)."""
    if item is None or not item.get(COUNTED):
        return None
    return record_keys(str(item["data"]["amdSyncStatus"]))
