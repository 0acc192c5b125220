"""SPEC §9.3 through the real handlers on moto: `POST /appointments/bulk-sync` for 366 days over
a seeded store answers 202 `planning` with a job id within 1 s (nothing is read or queued while
answering); the worker then plans the range page by page and queues every appointment in it
exactly once, and the GET shows the job `running` with its total."""

from __future__ import annotations

import json
import math
import time
from datetime import date, timedelta
from typing import Any

import boto3

from amdsync.domain.appointments import AppointmentSyncRecord
from amdsync.jobs import SyncJob
from amdsync.store import keys
from amdsync.store.dynamo import to_dynamo
from amdsync.sync.bulk import PLAN_PAGE_SIZE
from amdsync.sync.worker import JobProcessor
from tests.integration.functions.conftest import AwsHarness
from tests.lambda_support import FakeLambdaContext, load_event

SEEDED = 750  # 3 full planning pages (and an empty last one)
PROVIDER_EVERY = 10  # every 10th is DR-8's, the one the bulk asks for (moto's SQS is slow)
FIRST = date(2026, 1, 1)
LAST = FIRST + timedelta(days=366)
START_BUDGET_SECONDS = 1.0


def _record(appointment_id: str, day: date, hour: int, provider: str) -> AppointmentSyncRecord:
    return AppointmentSyncRecord.model_validate(
        {
            "appointmentId": appointment_id,
            "patientId": "P-100",
            "providerId": provider,
            "facilityId": "MAIN",
            "appointmentType": "THERAPY_50",
            "start": f"{day.isoformat()}T{hour:02d}:00:00",
            "timeZone": "America/Denver",
            "durationMinutes": 50,
            "status": "SCHEDULED",
            "ehrVersion": 1,
        }
    )


def _seed(aws: AwsHarness, practice: str) -> set[str]:
    """SEEDED records spread over the whole year, written as DynamoAppointments lays them out;
    returns DR-8's."""
    _, name = aws.table("SyncStateTable")
    table = boto3.resource("dynamodb").Table(name)
    ids = set()
    with table.batch_writer() as batch:
        for i in range(SEEDED):
            provider = "DR-8" if i % PROVIDER_EVERY == 0 else "DR-7"
            record = _record(f"A-{i:05d}", FIRST + timedelta(days=i % 367), 8 + i // 367, provider)
            if provider == "DR-8":
                ids.add(record.appointment_id)
            batch.put_item(
                Item=to_dynamo(
                    {
                        "pk": keys.appointment(practice, record.appointment_id),
                        "sk": keys.RECORD,
                        "gsi1pk": keys.appointments_index(practice),
                        "gsi1sk": f"{record.start}#{record.appointment_id}",
                        "data": record.model_dump(mode="json"),
                        "version": 1,
                    }
                )
            )
    return ids


def _call(api: Any, name: str, **changes: Any) -> tuple[int, dict[str, Any], float]:
    event = load_event(f"api/{name}.json")
    event.update(changes)
    started = time.perf_counter()
    response = api.lambda_handler(event, FakeLambdaContext())
    elapsed = time.perf_counter() - started
    return response["statusCode"], json.loads(response["body"]), elapsed


def _keyed(key: str) -> dict[str, str]:
    headers = dict(load_event("api/post-appointments-bulk-sync.json")["headers"])
    return {**headers, "idempotency-key": f"bulk-{key}-0001"}


def _work_the_queue(aws: AwsHarness, worker: Any) -> tuple[int, list[str]]:
    """Run the planning steps as the worker would; collect (and remove) the queued syncs."""
    sqs = aws.client("sqs")
    url = aws.queue_url("BackgroundQueue")  # bulk work is the background lane
    processor = JobProcessor(worker.SERVICES.context())
    steps, synced = 0, []
    while messages := sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0
    ).get("Messages", []):
        for message in messages:
            job = SyncJob.model_validate_json(message["Body"])
            if job.kind == "bulk_plan":
                assert processor.process(job).kind == "done"
                steps += 1
            else:
                assert (job.kind, job.lane) == ("appointment", "background")
                synced.append(job.entity_id)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return steps, synced


def test_a_366_day_bulk_starts_within_a_second_and_plans_in_the_background(
    aws: AwsHarness,
) -> None:
    api = aws.load("api")
    practice = api.SETTINGS.practice_id
    seeded = _seed(aws, practice)
    # A warm instance: its first keyed request has built the idempotency store's client (a
    # once-per-instance cost, measured and reported apart). The warm-up's range is empty.
    assert _call(api, "get-appointments-bulk-sync-by-job-id")[0] == 404
    empty = json.dumps({"from": "2025-01-01", "to": "2025-01-01", "providerId": "DR-8"})
    first_status, _, first_elapsed = _call(
        api, "post-appointments-bulk-sync", body=empty, headers=_keyed("warm-up")
    )
    assert first_status == 202

    body = json.dumps({"from": FIRST.isoformat(), "to": LAST.isoformat(), "providerId": "DR-8"})
    status, started, elapsed = _call(
        api, "post-appointments-bulk-sync", body=body, headers=_keyed("year")
    )
    assert status == 202, started
    assert (started["state"], started["total"]) == ("planning", None) and started["jobId"]
    print(
        f"bulk start latency, 366 days over {SEEDED} stored appointments: {elapsed:.3f} s "
        f"(the instance's first keyed request: {first_elapsed:.3f} s)"
    )
    assert elapsed < START_BUDGET_SECONDS, f"bulk start took {elapsed:.3f} s"

    worker = aws.load("sync_worker")
    steps, synced = _work_the_queue(aws, worker)
    # One step per page of the index (DynamoDB may hand out an empty last page).
    steps -= 1  # the warm-up's single, empty page
    assert math.ceil(SEEDED / PLAN_PAGE_SIZE) <= steps <= SEEDED // PLAN_PAGE_SIZE + 1
    assert sorted(synced) == sorted(seeded)  # every appointment in the range, once

    job_id = started["jobId"]
    path = f"/api/advancedmd/appointments/bulk-sync/{job_id}"
    event = load_event("api/get-appointments-bulk-sync-by-job-id.json")
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["pathParameters"] = {"jobId": job_id}
    progress = json.loads(api.lambda_handler(event, FakeLambdaContext())["body"])
    assert (progress["state"], progress["total"], progress["done"]) == ("running", len(seeded), 0)
