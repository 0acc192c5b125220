"""Pull function: fired every minute by EventBridge Scheduler; pulls AMD changes when due."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from amdsync.config import PullSettings, load_settings
from amdsync.observability import logger, metrics, tracer

SETTINGS = load_settings(PullSettings)


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    logger.info("pull tick")
    return {"pulled": False, "reason": "pull engine not wired yet"}
