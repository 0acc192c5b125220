"""Weekly report function: Monday 07:00 America/Denver summary of sync health to SNS."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from amdsync.compose import PowertoolsMetrics, Services
from amdsync.config import ReportSettings, load_settings
from amdsync.observability import bridge_library_logs, logger, metrics, tracer
from amdsync.sync.weekly import weekly_summary

SETTINGS = load_settings(ReportSettings)
bridge_library_logs()
SERVICES = Services(SETTINGS, PowertoolsMetrics(metrics))


@logger.inject_lambda_context
@metrics.log_metrics
# Responses hold appointment times and patient ids: never recorded in X-Ray.
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    text, stats = weekly_summary(SERVICES.context())
    SERVICES.notify(SETTINGS.alarm_topic_arn, "amdsync weekly summary", text)
    logger.info("weekly summary sent", extra={"total": stats.total})
    return {"sent": True, "stats": stats.model_dump(mode="json")}
