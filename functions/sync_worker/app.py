"""Sync worker: consumes SQS FIFO batches of sync jobs, reporting partial batch failures."""

from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from amdsync.config import WorkerSettings, load_settings
from amdsync.jobs import SyncJob
from amdsync.observability import logger, metrics, tracer

SETTINGS = load_settings(WorkerSettings)
processor = BatchProcessor(event_type=EventType.SQS)


def handle_record(record: SQSRecord) -> None:
    # A body that is not a valid job raises here: the record is reported as failed and,
    # after the queue's receive budget, lands in the DLQ for a person to look at.
    job = SyncJob.model_validate_json(record.body)
    logger.info("sync job received", extra={"kind": job.kind, "entity_id": job.entity_id})


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=handle_record, processor=processor, context=context
    )
