"""Weekly report function: Monday 07:00 America/Denver summary of sync health to SNS."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from amdsync.config import ReportSettings, load_settings
from amdsync.observability import logger, metrics, tracer

SETTINGS = load_settings(ReportSettings)


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    logger.info("weekly report tick")
    return {"sent": False, "reason": "report engine not wired yet"}
