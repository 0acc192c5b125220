"""Sync worker: consumes SQS FIFO batches of sync jobs, reporting partial batch failures."""

from functools import partial
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from amdsync.compose import PowertoolsMetrics, Services
from amdsync.config import WorkerSettings, load_settings
from amdsync.observability import bridge_library_logs, logger, metrics, tracer
from amdsync.sync.context import SyncContext
from amdsync.sync.queue_worker import RecordRef, handle_record
from amdsync.sync.worker import JobProcessor

SETTINGS = load_settings(WorkerSettings)
bridge_library_logs()
SERVICES = Services(SETTINGS, PowertoolsMetrics(metrics))
# A batch the rate limiter defers entirely is a normal outcome, not a failed invocation: report
# every record as a batch item failure instead of raising (Lambda errors, ESM backoff).
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def record_handler(record: SQSRecord, lambda_context: LambdaContext, ctx: SyncContext) -> None:
    # Every line logged for this record, the AMD client's included, carries its message id.
    logger.append_keys(message_id=record.message_id)
    decision = handle_record(
        RecordRef(
            record.message_id,
            record.receipt_handle,
            record.body,
            int(record.attributes.approximate_receive_count or 1),
        ),
        # A manual pull stops between its pieces before this invocation's deadline.
        lambda: JobProcessor(
            ctx,
            remaining=lambda: lambda_context.get_remaining_time_in_millis() / 1000,
            backoff_base=SETTINGS.retry_base_seconds,
            # The pull button's pull, stopped by the mass-change guard: the scheduled pull's notice.
            on_pull_blocked=SERVICES.notify_pull_blocked,
        ),
        SERVICES.queue,
        SERVICES.dead_letters(),
    )
    logger.info("sync job", extra={"decision": decision.kind})


@logger.inject_lambda_context
@metrics.log_metrics
# Responses hold appointment times and patient ids: never recorded in X-Ray.
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    # An AMD write whose worst case no longer fits this invocation is deferred, not started.
    SERVICES.deadline.start(lambda: context.get_remaining_time_in_millis() / 1000)
    # One context for the batch: its records share one read of the settings and mappings.
    handler = partial(record_handler, ctx=SERVICES.invocation_context())
    return process_partial_response(
        event=event, record_handler=handler, processor=processor, context=context
    )
