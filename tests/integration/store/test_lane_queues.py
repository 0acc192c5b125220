"""Two lanes, two queues (SPEC §9.3, issue 15 item 1): a bulk backlog on the background queue is
never ahead of an EHR write on the interactive one; each lane's depth is its own; a deferral
goes back to the queue the message came from."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from amdsync.amd.lanes import BACKGROUND, INTERACTIVE
from amdsync.jobs import SyncJob
from amdsync.store.queue import SqsJobQueue


@pytest.fixture
def sqs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield boto3.client("sqs", region_name="us-east-1")


def _fifo(sqs: Any, name: str) -> str:
    return str(
        sqs.create_queue(
            QueueName=f"{name}.fifo",
            Attributes={"FifoQueue": "true", "VisibilityTimeout": "30"},
        )["QueueUrl"]
    )


def _job(n: int, lane: Any) -> SyncJob:
    return SyncJob(kind="appointment", entityId=f"A{n}", version=1, practice="main", lane=lane)


def _bodies(sqs: Any, url: str) -> list[dict[str, Any]]:
    found = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            found.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return found


def test_an_ehr_write_is_not_queued_behind_a_bulk_backlog(sqs: Any) -> None:
    interactive, background = _fifo(sqs, "sync"), _fifo(sqs, "background")
    queue = SqsJobQueue(sqs, interactive, background)
    queue.enqueue([_job(n, BACKGROUND) for n in range(40)], bulk_job_id="B1")
    queue.enqueue([_job(999, INTERACTIVE)])
    assert (queue.depth(INTERACTIVE), queue.depth(BACKGROUND), queue.depth()) == (1, 40, 41)
    first = _bodies(sqs, interactive)
    assert [body["entityId"] for body in first] == ["A999"]
    assert first[0]["lane"] == "interactive"
    later = _bodies(sqs, background)
    assert len(later) == 40 and {body["lane"] for body in later} == {"background"}


def test_a_deferral_goes_back_to_the_queue_it_came_from(sqs: Any) -> None:
    interactive, background = _fifo(sqs, "sync"), _fifo(sqs, "background")
    queue = SqsJobQueue(sqs, interactive, background)
    queue.enqueue([_job(1, BACKGROUND)])
    message = sqs.receive_message(QueueUrl=background, MaxNumberOfMessages=1)["Messages"][0]
    queue.defer(message["ReceiptHandle"], 0, BACKGROUND)  # visible again at once
    again = sqs.receive_message(QueueUrl=background, MaxNumberOfMessages=1).get("Messages", [])
    assert [m["MessageId"] for m in again] == [message["MessageId"]]


def test_without_a_background_queue_both_lanes_share_one(sqs: Any) -> None:
    only = _fifo(sqs, "sync")
    queue = SqsJobQueue(sqs, only)
    queue.enqueue([_job(1, BACKGROUND), _job(2, INTERACTIVE)])
    assert queue.depth(INTERACTIVE) == queue.depth(BACKGROUND) == queue.depth() == 2
    assert sorted(body["entityId"] for body in _bodies(sqs, only)) == ["A1", "A2"]


def test_messages_queued_before_lanes_existed_read_as_interactive() -> None:
    old = '{"kind":"appointment","entityId":"A1","version":3,"practice":"main"}'
    assert SyncJob.model_validate_json(old).lane == INTERACTIVE
