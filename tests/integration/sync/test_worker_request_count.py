"""DynamoDB requests per synced appointment (issue 15: requests per sync are what a sync costs,
and what a 20,000-appointment bulk waits on).

One invocation of the sync worker's real handler with a batch of 10 new appointments, as SQS
delivers them, counted at botocore (`before-call.dynamodb`) by operation and by item:
* the settings, and each kind of mapping a create needs, are read once for the whole
  invocation (they were read once per job, and each mapping three times per create);
* a create costs at most PER_CREATE requests (measured: 26.1 per create before, 13.6 after,
  per-invocation reads included): the record's and the patient's reads, the intent and the
  synced saves with their counters (counts and newest sync time in one update), the
  booking-in-flight marker and its clearing, the visit-owner claim and the unlinked-item
  removal, the rate limiter's updates for the one AMD call, and the log entry with its
  counter. Every conditional write that guards a booking stays; what went is reads whose
  answer the job already had, and a second update of the same counter item.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest

from amdsync.amd.tiers import RATE_LIMITS_ENV
from amdsync.domain.mappings import MappingKind
from amdsync.jobs import SyncJob
from amdsync.store import keys
from tests.integration.sync.conftest import PROVIDERS, World, work_day
from tests.lambda_support import DeadlineContext, load_handler

BATCH = 10
PER_CREATE = 13
# The settings, the three kinds of mapping the batch resolves, the AMD token, and a little
# room for a stale-write retry.
PER_INVOCATION = 8
FRESH_MS = 59_000  # a fresh 60 s invocation: every AMD write fits (amd/budget.py)
WIDE_LIMITS = {b: {"peak": 1000, "off_peak": 1000} for b in ("T1", "T2", "T3", "FEED", "LOGIN")}


class Requests:
    """DynamoDB requests made while `counting`, by operation, and reads by partition."""

    def __init__(self) -> None:
        self.counting = False
        self.operations: Counter[str] = Counter()
        self.partitions: Counter[str] = Counter()

    def __call__(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        if not self.counting:
            return
        self.operations[model.name] += 1
        body = json.loads(params["body"])
        if model.name == "GetItem":
            self.partitions[body["Key"]["pk"]["S"]] += 1
        if model.name == "Query":  # the partition is the key condition's value
            values = body.get("ExpressionAttributeValues", {}).values()
            self.partitions.update(v["S"] for v in values if "#" in v.get("S", ""))

    @property
    def total(self) -> int:
        return sum(self.operations.values())


@contextmanager
def dynamodb_requests() -> Iterator[Requests]:
    """A counter on every DynamoDB client made from here on (clients copy their session's
    event hooks when created, and the handler makes its own on its first request)."""
    boto3.setup_default_session()
    assert boto3.DEFAULT_SESSION is not None
    events = boto3.DEFAULT_SESSION.events
    requests = Requests()
    events.register("before-call.dynamodb", requests)
    try:
        yield requests
    finally:
        events.unregister("before-call.dynamodb", requests)


def sqs_event(jobs: list[SyncJob]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"msg-{n}",
                "receiptHandle": f"rh-{n}",
                "body": job.model_dump_json(by_alias=True),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "0" * 32,
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-west-2:123456789012:amdsync-sync.fifo",
                "awsRegion": "us-west-2",
            }
            for n, job in enumerate(jobs)
        ]
    }


def register_batch(world: World) -> list[SyncJob]:
    """A synced patient and BATCH pending appointments in free slots (nothing queued: the
    event below delivers them)."""
    settings = world.ctx.settings.get()
    manual = settings.value.model_copy(update={"auto_sync_appointments": False})
    world.ctx.settings.save(manual, settings.version)
    patient = world.id("P")
    world.register_patient(patient)
    world.drain()
    jobs = []
    for n in range(BATCH):
        appointment_id = world.id(f"C{n}")
        provider = sorted(PROVIDERS)[n % len(PROVIDERS)]
        world.register(appointment_id, patient, work_day(2, 8 + n // len(PROVIDERS)),
                       provider=provider)  # fmt: skip
        jobs.append(
            SyncJob(
                kind="appointment", entityId=appointment_id, version=1, practice=world.ctx.practice
            )
        )
    return jobs


def test_an_invocation_of_10_creates_reads_settings_and_mappings_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.sim.admin.config(rate_limits_enabled=False)
    monkeypatch.setenv(RATE_LIMITS_ENV, json.dumps(WIDE_LIMITS))
    jobs = register_batch(world)
    with dynamodb_requests() as requests:
        worker = load_handler("sync_worker")
        requests.counting = True
        answer = worker.lambda_handler(sqs_event(jobs), DeadlineContext(remaining_ms=FRESH_MS))
        requests.counting = False

    assert answer == {"batchItemFailures": []}
    visits = {world.record(job.entity_id).advanced_md_visit_id for job in jobs}
    assert None not in visits and len(visits) == BATCH
    practice = world.ctx.practice
    assert requests.partitions[keys.settings(practice)] == 1, requests.partitions
    for kind in (MappingKind.PROVIDERS, MappingKind.FACILITIES, MappingKind.APPOINTMENT_TYPES):
        mapping_reads = requests.partitions[keys.mapping(practice, kind.value)]
        assert mapping_reads == 1, (kind, requests.partitions)  # the whole kind, one query
    budget = BATCH * PER_CREATE + PER_INVOCATION
    assert requests.total <= budget, (requests.total, requests.operations)
