"""The SQS event source: real batches to the real sync_worker, partial failures, DLQ redrive."""

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from local.runner.function_host import FunctionError
from local.runner.sqs_poller import SqsEventSourcePoller, failed_ids, lambda_record
from local.runner.stack import LocalStack
from tests.integration.runner.conftest import quiet_config, running_stack

VISIBILITY_SECONDS = 1
MAX_RECEIVES = 2
GOOD_JOB = {"kind": "appointment", "entityId": "A-200", "version": 1, "practice": "999999"}


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    yield from running_stack(
        quiet_config(
            functions=("SyncWorkerFunction",),
            start_simulator=True,  # the real worker gets an AdvancedMD to talk to
            parameter_overrides={"QueueMaxReceiveCount": str(MAX_RECEIVES)},
            property_overrides={"SyncQueue": {"VisibilityTimeout": VISIBILITY_SECONDS}},
        )
    )


@pytest.fixture
def sqs(stack: LocalStack) -> Any:
    assert stack.moto is not None
    return stack.moto.client("sqs")


@pytest.fixture
def poller(stack: LocalStack, sqs: Any) -> Iterator[SqsEventSourcePoller]:
    (made,) = stack.make_pollers()
    yield made
    made.stop()
    for url in (made.queue_url, dlq_url(stack)):
        drain(sqs, url)


def drain(sqs: Any, url: str) -> None:
    """Empty a queue between tests (PurgeQueue is allowed once a minute)."""
    deadline = time.monotonic() + 5
    while visible_count(sqs, url) and time.monotonic() < deadline:
        received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for message in received.get("Messages", []):
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    assert visible_count(sqs, url) == 0


def dlq_url(stack: LocalStack) -> str:
    assert stack.resources is not None
    return stack.resources.queues["SyncDeadLetterQueue"]


def send(sqs: Any, url: str, body: str, group: str, dedup: str) -> str:
    sent = sqs.send_message(
        QueueUrl=url, MessageBody=body, MessageGroupId=group, MessageDeduplicationId=dedup
    )
    return str(sent["MessageId"])


def visible_count(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def test_poller_is_built_from_the_template_event_source(
    stack: LocalStack, poller: SqsEventSourcePoller, sqs: Any
) -> None:
    assert poller.source.function == "SyncWorkerFunction"
    assert poller.source.batch_size == 10
    assert poller.source.report_batch_item_failures
    attributes = sqs.get_queue_attributes(QueueUrl=poller.queue_url, AttributeNames=["All"])
    redrive = json.loads(attributes["Attributes"]["RedrivePolicy"])
    assert redrive["maxReceiveCount"] == MAX_RECEIVES
    assert attributes["Attributes"]["VisibilityTimeout"] == str(VISIBILITY_SECONDS)


def test_good_message_is_deleted_and_poison_goes_to_the_dlq_after_max_receives(
    stack: LocalStack, poller: SqsEventSourcePoller, sqs: Any
) -> None:
    url = poller.queue_url
    good = send(sqs, url, json.dumps(GOOD_JOB), "appointment#A-200", "appointment#A-200#v1")
    poison = send(sqs, url, "not a sync job", "appointment#A-201", "appointment#A-201#v1")

    first = poller.poll_once(wait_seconds=1)
    assert (first.received, first.deleted, first.failed_ids) == (2, 1, (poison,))
    assert first.error is None
    assert visible_count(sqs, url) == 1  # the good one is gone, the poison one waits

    receives = 1
    deadline = time.monotonic() + 10
    while visible_count(sqs, url) and time.monotonic() < deadline:
        time.sleep(VISIBILITY_SECONDS + 0.1)
        outcome = poller.poll_once(wait_seconds=0)
        if outcome.received:
            assert outcome.failed_ids == (poison,)
            receives += 1
    assert receives == MAX_RECEIVES
    assert visible_count(sqs, url) == 0
    dead = sqs.receive_message(
        QueueUrl=dlq_url(stack), MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"]
    )["Messages"]
    assert [m["Body"] for m in dead] == ["not a sync job"]
    assert dead[0]["MessageId"] == poison
    sqs.delete_message(QueueUrl=dlq_url(stack), ReceiptHandle=dead[0]["ReceiptHandle"])
    assert good != poison


def test_a_handler_error_leaves_the_whole_batch(
    stack: LocalStack, poller: SqsEventSourcePoller, sqs: Any
) -> None:
    def failing(function: str, event: dict[str, Any]) -> Any:
        raise FunctionError(function, {"errorType": "Boom", "errorMessage": "x"})

    broken = SqsEventSourcePoller(poller.source, poller.queue_url, sqs, failing)
    send(sqs, poller.queue_url, json.dumps(GOOD_JOB), "appointment#A-300", "appointment#A-300#v1")
    outcome = broken.poll_once(wait_seconds=1)
    assert (outcome.received, outcome.deleted, outcome.error) == (1, 0, "Boom")
    assert visible_count(sqs, poller.queue_url) == 1


def test_visibility_set_by_the_handler_is_honoured(
    stack: LocalStack, poller: SqsEventSourcePoller, sqs: Any
) -> None:
    def defer_immediately(function: str, event: dict[str, Any]) -> Any:
        # What the worker does for a rate-limit deferral: set the wait, report a failure.
        (record,) = event["Records"]
        sqs.change_message_visibility(
            QueueUrl=poller.queue_url, ReceiptHandle=record["receiptHandle"], VisibilityTimeout=0
        )
        return {"batchItemFailures": [{"itemIdentifier": record["messageId"]}]}

    deferring = SqsEventSourcePoller(poller.source, poller.queue_url, sqs, defer_immediately)
    sent = send(sqs, poller.queue_url, json.dumps(GOOD_JOB), "appointment#A-400", "a400v1")
    assert deferring.poll_once(wait_seconds=1).failed_ids == (sent,)
    # Visible again at once (not after the queue's visibility timeout), and now processed.
    again = poller.poll_once(wait_seconds=0)
    assert (again.received, again.deleted) == (1, 1)


def test_started_pollers_deliver_in_the_background(
    stack: LocalStack, poller: SqsEventSourcePoller, sqs: Any
) -> None:
    poller.start(concurrency=2)
    send(sqs, poller.queue_url, json.dumps(GOOD_JOB), "appointment#A-500", "a500v1")
    deadline = time.monotonic() + 10
    while visible_count(sqs, poller.queue_url) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert visible_count(sqs, poller.queue_url) == 0


def test_records_have_the_lambda_sqs_shape() -> None:
    message = {
        "MessageId": "m-1",
        "ReceiptHandle": "rh",
        "Body": "b",
        "MD5OfBody": "md5",
        "Attributes": {"ApproximateReceiveCount": "1", "MessageGroupId": "g"},
        "MessageAttributes": {"trace": {"StringValue": "t", "DataType": "String"}},
    }
    record = lambda_record(message, "arn:aws:sqs:us-west-2:123456789012:q.fifo", "us-west-2")
    assert record["messageId"] == "m-1" and record["receiptHandle"] == "rh"
    assert record["attributes"]["MessageGroupId"] == "g"
    assert record["messageAttributes"]["trace"] == {
        "stringValue": "t",
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": "String",
    }
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"].endswith(":q.fifo")


def test_invalid_failure_lists_fail_the_whole_batch() -> None:
    ids = {"a", "b"}
    assert failed_ids({"batchItemFailures": []}, ids) == set()
    assert failed_ids(None, ids) == set()
    assert failed_ids({"batchItemFailures": [{"itemIdentifier": "a"}]}, ids) == {"a"}
    assert failed_ids({"batchItemFailures": [{"itemIdentifier": "zzz"}]}, ids) is None
    assert failed_ids({"batchItemFailures": [{"itemIdentifier": ""}]}, ids) is None
