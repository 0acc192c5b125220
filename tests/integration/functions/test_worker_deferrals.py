"""The sync worker's deferral and retry paths through the real handler and real SQS semantics:
moto queues created from template.yaml (FIFO, redrive to the DLQ after QueueMaxReceiveCount
receives), driven the way Lambda's event source mapping drives them (receive a batch, invoke,
delete what did not fail). The sync itself runs over the in-memory fakes, so "the limiter has
no budget" and "AdvancedMD keeps failing" are exact.

- Rate-limit deferrals alone never dead-letter a job, even far past maxReceiveCount: each
  comes back after the limiter's wait (the visibility timeout the worker sets) and the job is
  processed once budget returns.
- Real transient failures spend the retry budget with backoff, then the job is kept as failed
  work (written by the worker, with the reason) and the record shows `error` with its code.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import pytest

from amdsync.amd.errors import RateLimited, ServerError
from amdsync.jobs import SyncJob
from amdsync.sync import queue_worker
from amdsync.sync.worker import RETRY_BUDGET
from local.amdsim.handle import SimHandle
from local.runner.stack import LocalStack
from tests.fakes import PRACTICE, World, build_world
from tests.integration.functions.conftest import AwsHarness
from tests.lambda_support import FakeLambdaContext
from tests.stacks import resources_only
from tests.unit.sync.helpers import PATIENT, register_patient

MAX_RECEIVE_COUNT = 5
LIMITER_WAIT = 7.0

StackFactory = Callable[[dict[str, str]], AwsHarness]


@pytest.fixture
def stacks(amd_sim: SimHandle, monkeypatch: pytest.MonkeyPatch) -> Iterator[StackFactory]:
    started: list[LocalStack] = []

    def start(overrides: dict[str, str]) -> AwsHarness:
        config = resources_only(amd_sim, **overrides)
        stack = LocalStack(config).start()
        started.append(stack)
        return AwsHarness(stack, amd_sim, monkeypatch)

    yield start
    for stack in started:
        stack.stop()


class Worker:
    """The real sync_worker handler, its SQS adapters on moto, its sync over a fake world."""

    def __init__(self, aws: AwsHarness, world: World) -> None:
        self.aws = aws
        self.world = world
        self.module: ModuleType = aws.load("sync_worker")
        self.module.SERVICES.context = lambda: world.ctx  # the sync runs over the fakes
        self.sqs = aws.client("sqs")
        self.url = aws.queue_url("SyncQueue")
        self.dlq = aws.queue_url("SyncDeadLetterQueue")
        self.visibility: list[int] = []  # every VisibilityTimeout the worker set
        self.module.SERVICES._sqs.meta.events.register(
            "provide-client-params.sqs.ChangeMessageVisibility", self._spy
        )
        self.receive_counts: list[int] = []
        self.invocations = 0

    def _spy(self, params: dict[str, Any], **_: Any) -> None:
        self.visibility.append(int(params["VisibilityTimeout"]))

    def enqueue(self, job: SyncJob) -> None:
        self.module.SERVICES.queue.enqueue([job])

    def run_batch(self) -> int:
        """One event-source-mapping poll: receive, invoke, delete the successes; then let the
        worker's wait pass (visibility back to 0) so the next poll sees deferred messages."""
        reply = self.sqs.receive_message(
            QueueUrl=self.url, MaxNumberOfMessages=10, AttributeNames=["All"], WaitTimeSeconds=0
        )
        messages = reply.get("Messages", [])
        if not messages:
            return 0
        self.invocations += 1
        event = {"Records": [self._record(m) for m in messages]}
        result = self.module.lambda_handler(event, FakeLambdaContext())
        failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
        for message in messages:
            self.receive_counts.append(int(message["Attributes"]["ApproximateReceiveCount"]))
            if message["MessageId"] in failed:
                # The worker set the visibility to its wait; time passes, SQS shows it again.
                self.sqs.change_message_visibility(
                    QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
            else:
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
        return len(messages)

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message["Attributes"],
            "messageAttributes": {},
            "md5OfBody": message["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-west-2:123456789012:amdsync-sync.fifo",
            "awsRegion": "us-west-2",
        }

    def drain(self, max_polls: int = 200) -> None:
        for _ in range(max_polls):
            if self.run_batch() == 0 and self.depth(self.url) == 0:
                return
        raise AssertionError("the queue did not drain")

    def depth(self, url: str) -> int:
        attrs = self.sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"]) + int(
            attrs["ApproximateNumberOfMessagesNotVisible"]
        )

    def dead_letters(self) -> list[dict[str, Any]]:
        reply = self.sqs.receive_message(
            QueueUrl=self.dlq, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        )
        return list(reply.get("Messages", []))


def _amd_fails_first(world: World, count: int, error: Callable[[], Exception]) -> list[str]:
    """Every AMD call raises `error()` until `count` have; returns the calls refused."""
    refused: list[str] = []
    original = world.amd.faults.before

    def before(method: str) -> None:
        if len(refused) < count:
            refused.append(method)
            raise error()
        original(method)

    world.amd.faults.before = before  # type: ignore[method-assign]
    return refused


def _patient_job(world: World) -> SyncJob:
    register_patient(world)
    return SyncJob.model_validate(
        {"kind": "patient", "entityId": PATIENT, "version": 1, "practice": PRACTICE}
    )


def test_the_queue_redrives_after_the_overridden_receive_count(stacks: StackFactory) -> None:
    # Guards the test below: with this stack, SQS itself dead-letters at the 6th receive.
    aws = stacks({"QueueMaxReceiveCount": str(MAX_RECEIVE_COUNT)})
    sqs, url = aws.client("sqs"), aws.queue_url("SyncQueue")
    redrive = json.loads(
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"][
            "RedrivePolicy"
        ]
    )
    assert int(redrive["maxReceiveCount"]) == MAX_RECEIVE_COUNT
    sqs.send_message(QueueUrl=url, MessageBody="{}", MessageGroupId="g", MessageDeduplicationId="d")
    for _ in range(MAX_RECEIVE_COUNT):
        message = sqs.receive_message(QueueUrl=url)["Messages"][0]
        sqs.change_message_visibility(
            QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
        )
    assert sqs.receive_message(QueueUrl=url).get("Messages", []) == []
    dlq = aws.queue_url("SyncDeadLetterQueue")
    assert len(sqs.receive_message(QueueUrl=dlq).get("Messages", [])) == 1


def test_rate_limit_deferrals_alone_never_dead_letter(stacks: StackFactory) -> None:
    aws = stacks({"QueueMaxReceiveCount": str(MAX_RECEIVE_COUNT)})
    world = build_world()
    worker = Worker(aws, world)
    deferrals = 4 * MAX_RECEIVE_COUNT  # far past what SQS would allow one message
    refused = _amd_fails_first(world, deferrals, lambda: RateLimited(LIMITER_WAIT))
    worker.enqueue(_patient_job(world))

    worker.drain()

    assert len(refused) == deferrals  # the limiter said no that often ...
    patient = world.patients.get(PATIENT)
    assert patient is not None
    assert patient.value.amd_sync_status == "synced"  # ... and then the job went through
    assert patient.value.attempts == 0  # deferrals do not spend the retry budget
    assert worker.dead_letters() == []
    # Each deferral came back after the limiter's wait, set as the message's visibility.
    assert len(worker.visibility) > 0
    assert set(worker.visibility) == {int(LIMITER_WAIT)}
    # No message was ever received as often as the redrive policy allows.
    assert max(worker.receive_counts) < MAX_RECEIVE_COUNT + 1
    assert max(worker.receive_counts) <= queue_worker.RECYCLE_AT_RECEIVE
    assert worker.depth(worker.url) == 0


def test_without_recycling_sqs_would_dead_letter_the_deferred_job(
    stacks: StackFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Why the worker recycles: the same run with recycling off loses the job to the DLQ.
    monkeypatch.setattr(queue_worker, "RECYCLE_AT_RECEIVE", 10**6)
    aws = stacks({"QueueMaxReceiveCount": str(MAX_RECEIVE_COUNT)})
    world = build_world()
    worker = Worker(aws, world)
    _amd_fails_first(world, 4 * MAX_RECEIVE_COUNT, lambda: RateLimited(LIMITER_WAIT))
    worker.enqueue(_patient_job(world))
    worker.drain()
    patient = world.patients.get(PATIENT)
    assert patient is not None and patient.value.amd_sync_status != "synced"
    assert len(worker.dead_letters()) == 1


def test_transient_failures_spend_the_retry_budget_then_dead_letter(
    stacks: StackFactory,
) -> None:
    aws = stacks({})  # the template's own QueueMaxReceiveCount
    world = build_world()
    worker = Worker(aws, world)
    refused = _amd_fails_first(world, 10**6, lambda: ServerError(http_status=503))
    worker.enqueue(_patient_job(world))

    worker.drain()

    assert len(refused) == RETRY_BUDGET  # RETRY_BUDGET tries in all ...
    retries = worker.visibility
    assert len(retries) == RETRY_BUDGET - 1  # ... each but the last followed by a backoff
    assert all(1 <= wait <= 900 for wait in retries)  # backoff with jitter, capped
    patient = world.patients.get(PATIENT)
    assert patient is not None
    assert patient.value.amd_sync_status == "error"
    assert patient.value.attempts == RETRY_BUDGET
    assert patient.value.amd_sync_error_code == "AMD_UNAVAILABLE"
    assert "dead-letter" in (patient.value.amd_sync_error or "")
    # Kept as failed work (GET /sync/failed) in the stack's table, with reason and tries; the
    # SQS DLQ stays SQS's own safety net for messages the worker never decided on.
    failed, _ = worker.module.SERVICES.dead_letters().page(None, 10)
    assert [(f.entity_type, f.entity_id, f.error_code, f.attempts) for f in failed] == [
        ("patient", PATIENT, "AMD_UNAVAILABLE", RETRY_BUDGET)
    ]
    assert failed[0].job.entity_id == PATIENT
    assert worker.dead_letters() == []
    assert worker.depth(worker.url) == 0
