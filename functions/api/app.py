"""API function: every route of SPEC §4. Thin: the resolver in amdsync.web does the work."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from amdsync.compose import PowertoolsMetrics, Services
from amdsync.config import ApiSettings, load_settings
from amdsync.observability import bridge_library_logs, logger, metrics, tracer
from amdsync.web.idempotency import dynamodb_persistence
from amdsync.web.resolver import create_resolver

SETTINGS = load_settings(ApiSettings)
bridge_library_logs()
SERVICES = Services(SETTINGS, PowertoolsMetrics(metrics))
app = create_resolver(
    lambda: SERVICES,
    role_claim=SETTINGS.role_claim,
    # Idempotency-Key records live in the control table (pk/sk, TTL expiresAt).
    idempotency=dynamodb_persistence(SETTINGS.control_table, lambda: SERVICES.practice),
)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
# Responses hold appointment times and patient ids: never recorded in X-Ray.
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    SERVICES.deadline.start(lambda: context.get_remaining_time_in_millis() / 1000)
    return app.resolve(event, context)
