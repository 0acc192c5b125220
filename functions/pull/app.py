"""Pull function: fired every minute by EventBridge Scheduler; pulls AMD changes when due."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from amdsync.amd.errors import RateLimited
from amdsync.compose import PowertoolsMetrics, Services
from amdsync.config import PullSettings, load_settings
from amdsync.observability import bridge_library_logs, logger, metrics, tracer
from amdsync.sync.pull import PullOptions, PullRun
from amdsync.sync.schedule import pull_due, pull_stale

SETTINGS = load_settings(PullSettings)
bridge_library_logs()
SERVICES = Services(SETTINGS, PowertoolsMetrics(metrics), SETTINGS.max_rate_wait_seconds)
# A tick may wait the few seconds AMD's change feed rule (once per 60 s + margin) asks for,
# inside its run, rather than skip a minute (SPEC 9.3: realtime = every minute).
OPTIONS = PullOptions(
    SETTINGS.bootstrap_days_back,
    SETTINGS.bootstrap_days_ahead,
    max_feed_wait=SETTINGS.max_rate_wait_seconds,
)


@logger.inject_lambda_context
@metrics.log_metrics
# Responses hold appointment times and patient ids: never recorded in X-Ray.
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    ctx = SERVICES.context()
    settings = ctx.settings.get().value
    now = ctx.clock.now()
    last_success = ctx.watermark.succeeded_at()
    # Reported every tick, so the stale alarm also fires when ticks stop (missing = breaching).
    metrics.add_metric(
        name="PullStale", unit=MetricUnit.Count, value=int(pull_stale(settings, last_success, now))
    )
    resuming = ctx.pull_windows.checkpoint() is not None  # a window cut off at a deadline
    if not resuming and not pull_due(settings, last_success, now, ctx.timezone):
        return {"pulled": False, "reason": "not due"}
    try:
        # Stops between stored pieces before this invocation's deadline; the next tick resumes.
        summary = PullRun(ctx, OPTIONS).run(
            remaining=lambda: context.get_remaining_time_in_millis() / 1000
        )
    except RateLimited as exc:
        logger.info("pull deferred by the rate limiter", extra={"wait": exc.retry_after})
        return {"pulled": False, "reason": "rate limited"}
    if summary.status == "too_soon":
        logger.info("pull skipped: AMD's feed not yet allowed", extra={"wait": summary.retry_after})
        return {"pulled": False, "reason": "feed not yet allowed"}
    if summary.status == "partial":
        logger.info("pull checkpointed before the deadline", extra={"visits": summary.visits})
        return {"pulled": False, "reason": "checkpointed", "status": summary.status}
    if summary.status == "blocked":
        SERVICES.notify_pull_blocked()
    logger.info("pull finished", extra={"status": summary.status, "visits": summary.visits})
    return {"pulled": summary.status == "ok", "status": summary.status, "visits": summary.visits}
