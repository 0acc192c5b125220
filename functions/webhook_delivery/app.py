"""Webhook delivery: consumes the webhook FIFO queue, one signed POST per message (SPEC §9.4)."""

from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from amdsync.amd.ports import SystemClock
from amdsync.compose import PowertoolsMetrics, webhook_services
from amdsync.config import WebhookDeliverySettings, load_settings
from amdsync.observability import bridge_library_logs, logger, metrics, tracer
from amdsync.store.webhooks import SqsWebhookQueue
from amdsync.sync.webhook_worker import handle_delivery
from amdsync.sync.webhooks import WebhookServices

SETTINGS = load_settings(WebhookDeliverySettings)
bridge_library_logs()
# A failed record holds back the later records of its group (one subscription, one
# appointment): the receiver gets them in order, after it.
processor = SqsFifoPartialProcessor(skip_group_on_error=True)
# Every delivery may be retried later: an all-retry batch is normal, not a failed invocation.
processor.raise_on_entire_batch_failure = False


@cache
def _services() -> tuple[WebhookServices, SqsWebhookQueue]:
    services = webhook_services(
        SETTINGS, boto3.resource("dynamodb"), SystemClock(), PowertoolsMetrics(metrics)
    )
    return services, SqsWebhookQueue(boto3.client("sqs"), SETTINGS.webhook_queue_url)


def record_handler(record: SQSRecord) -> None:
    logger.append_keys(message_id=record.message_id)
    services, queue = _services()
    decision = handle_delivery(record.body, record.receipt_handle, services.deliverer, queue)
    logger.info("webhook delivery", extra={"decision": decision.kind})


@logger.inject_lambda_context
@metrics.log_metrics
# Responses and events hold appointment ids: never recorded in X-Ray.
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
