"""The SQS FIFO sync queues, one per lane (SPEC §9.3): one message per job, grouped per entity,
deduplicated per version. A job goes to its lane's queue; without a background queue configured
both lanes share the interactive one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from amdsync.amd.lanes import BACKGROUND, INTERACTIVE, Lane
from amdsync.jobs import SyncJob

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

SEND_BATCH = 10  # SQS SendMessageBatch limit


class SqsJobQueue:
    def __init__(
        self, client: SQSClient, queue_url: str, background_url: str | None = None
    ) -> None:
        self._client = client
        self._urls: dict[Lane, str] = {
            INTERACTIVE: queue_url,
            BACKGROUND: background_url or queue_url,
        }

    def enqueue(self, jobs: list[SyncJob], bulk_job_id: str | None = None) -> None:
        for lane in (INTERACTIVE, BACKGROUND):
            self._send(self._urls[lane], [job for job in jobs if job.lane == lane])

    def _send(self, url: str, jobs: list[SyncJob]) -> None:
        for start in range(0, len(jobs), SEND_BATCH):
            batch = jobs[start : start + SEND_BATCH]
            entries = [
                {
                    "Id": str(i),
                    "MessageBody": job.model_dump_json(by_alias=True),
                    "MessageGroupId": job.group_id,
                    "MessageDeduplicationId": job.dedup_id,
                }
                for i, job in enumerate(batch)
            ]
            reply = self._client.send_message_batch(QueueUrl=url, Entries=entries)  # type: ignore[arg-type]
            if reply.get("Failed"):
                codes = sorted({f.get("Code", "?") for f in reply["Failed"]})
                raise RuntimeError(f"SQS refused {len(reply['Failed'])} job(s): {codes}")

    def depth(self, lane: Lane | None = None) -> int:
        """Jobs waiting or in flight: in one lane's queue, or in both."""
        lanes = (lane,) if lane else (INTERACTIVE, BACKGROUND)
        return sum(self._depth(url) for url in {self._urls[name] for name in lanes})

    def _depth(self, url: str) -> int:
        attrs = self._client.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attrs.get("ApproximateNumberOfMessages", 0)) + int(
            attrs.get("ApproximateNumberOfMessagesNotVisible", 0)
        )

    def defer(self, receipt_handle: str, seconds: float, lane: Lane = INTERACTIVE) -> None:
        """Bring a received message back after `seconds` (the rate limiter's wait)."""
        self._client.change_message_visibility(
            QueueUrl=self._urls[lane],
            ReceiptHandle=receipt_handle,
            VisibilityTimeout=max(0, min(int(seconds + 0.999), 43_200)),
        )
