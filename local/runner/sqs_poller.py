"""Lambda's SQS event source mapping, locally: long-poll, invoke with a batch, delete successes.

Semantics mirrored from AWS:
- one batch of up to BatchSize messages per invocation; up to MaximumConcurrency batches at once;
- with ReportBatchItemFailures, records named in `batchItemFailures` stay on the queue and every
  other record is deleted; an invalid failure list (an id not in the batch) fails the batch;
- a handler error or timeout deletes nothing, so the whole batch returns after the visibility
  timeout (or whatever visibility the handler set itself via ChangeMessageVisibility);
- dead-lettering after maxReceiveCount is left to the queue's RedrivePolicy, which moto applies
  on receive for standard and FIFO queues alike (moto 5: `receive_message` moves a message whose
  receive count reached maxReceiveCount to the DLQ), so the poller does not count receives.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from local.runner.function_host import FunctionError
from local.runner.function_specs import SqsEventSource

LOG = logging.getLogger("local.runner.sqs")

Invoker = Callable[[str, dict[str, Any]], Any]  # (function logical id, event) -> result


@dataclass(frozen=True)
class PollerSettings:
    wait_seconds: int = 1  # long-poll wait; short so shutdown is quick
    region: str = "us-west-2"
    error_backoff_seconds: float = 1.0


@dataclass(frozen=True)
class BatchOutcome:
    received: int
    deleted: int
    failed_ids: tuple[str, ...]
    error: str | None = None


def lambda_record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """One SQS message as a record of Lambda's SQS event."""
    attributes = dict(message.get("Attributes", {}))
    record = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message.get("Body", ""),
        "attributes": attributes,
        "messageAttributes": {
            name: _message_attribute(value)
            for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
    if "MD5OfMessageAttributes" in message:
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def _message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    converted: dict[str, Any] = {
        "stringListValues": list(value.get("StringListValues", [])),
        "binaryListValues": list(value.get("BinaryListValues", [])),
        "dataType": value.get("DataType", "String"),
    }
    if "StringValue" in value:
        converted["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        converted["binaryValue"] = value["BinaryValue"]
    return converted


def failed_ids(response: Any, batch_ids: set[str]) -> set[str] | None:
    """The ids a ReportBatchItemFailures response names, or None if the response is invalid
    (then the whole batch counts as failed, as in AWS)."""
    if response is None or (isinstance(response, dict) and not response.get("batchItemFailures")):
        return set()
    if not isinstance(response, dict) or not isinstance(response["batchItemFailures"], list):
        return None
    found = set()
    for item in response["batchItemFailures"]:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not identifier or identifier not in batch_ids:
            return None
        found.add(identifier)
    return found


class SqsEventSourcePoller:
    """Polls one queue for one function; `poll_once()` is one receive/invoke/delete cycle."""

    def __init__(
        self,
        source: SqsEventSource,
        queue_url: str,
        sqs: Any,
        invoke: Invoker,
        settings: PollerSettings | None = None,
    ) -> None:
        self.source = source
        self.queue_url = queue_url
        self._sqs = sqs
        self._invoke = invoke
        self._settings = settings or PollerSettings()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def poll_once(self, wait_seconds: int | None = None) -> BatchOutcome:
        response = self._sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=min(self.source.batch_size, 10),
            WaitTimeSeconds=self._settings.wait_seconds if wait_seconds is None else wait_seconds,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = response.get("Messages", [])
        if not messages:
            return BatchOutcome(0, 0, ())
        records = [
            lambda_record(message, self.source.queue_arn, self._settings.region)
            for message in messages
        ]
        batch_ids = {record["messageId"] for record in records}
        try:
            result = self._invoke(self.source.function, {"Records": records})
        except FunctionError as exc:
            LOG.warning(
                "%s failed a batch of %d: %s", self.source.function, len(records), exc.error_type
            )
            return BatchOutcome(len(records), 0, tuple(sorted(batch_ids)), exc.error_type)
        failures = (
            failed_ids(result, batch_ids) if self.source.report_batch_item_failures else set()
        )
        if failures is None:
            LOG.warning("%s returned an invalid batchItemFailures list", self.source.function)
            return BatchOutcome(len(records), 0, tuple(sorted(batch_ids)), "InvalidResponse")
        done = [record for record in records if record["messageId"] not in failures]
        self._delete(done)
        return BatchOutcome(len(records), len(done), tuple(sorted(failures)))

    def _delete(self, records: list[dict[str, Any]]) -> None:
        for start in range(0, len(records), 10):
            chunk = records[start : start + 10]
            entries = [
                {"Id": str(index), "ReceiptHandle": record["receiptHandle"]}
                for index, record in enumerate(chunk)
            ]
            result = self._sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=entries)
            for failure in result.get("Failed", []):
                LOG.warning("delete failed: %s", failure.get("Code"))

    def start(self, concurrency: int) -> None:
        for index in range(max(1, concurrency)):
            thread = threading.Thread(
                target=self._run, name=f"sqs-{self.source.function}-{index}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception:
                if self._stop.is_set():
                    return
                LOG.exception("polling %s failed", self.queue_url)
                self._stop.wait(self._settings.error_backoff_seconds)

    def request_stop(self) -> None:
        """Stop polling after the current cycle (does not wait)."""
        self._stop.set()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(self._settings.wait_seconds + 5)
        self._threads.clear()
