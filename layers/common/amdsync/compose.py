"""The one place that shows what talks to what: builds the use cases' context and the API's
services from typed settings, boto3 and the AdvancedMD client. Handlers call this; nothing
else constructs adapters.

Everything is built lazily and once per process (Lambda reuses it across invocations). Only
endpoints, clocks and secrets differ between AWS and the local stack: boto3 follows
`AWS_ENDPOINT_URL`, the partner-login URL comes from the environment, credentials from Secrets
Manager.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any, cast

import boto3
from botocore.config import Config

from amdsync.amd.deadline import Deadline
from amdsync.amd.ports import Clock, SystemClock
from amdsync.config import AmdSettings, ConfigError, TableSettings
from amdsync.observability import METRICS_NAMESPACE

if TYPE_CHECKING:
    # The adapters, use cases and the AdvancedMD client are imported where they are built, not
    # at import: a cold start of the API builds none of them until a request needs them (most
    # routes never call AMD), and their modules (pydantic models among them) are most of the
    # import time a function would otherwise pay before its first request.
    from amdsync.amd.config import AmdCredentials
    from amdsync.amd.service import AdvancedMD
    from amdsync.amd.tiers import LimitTable
    from amdsync.domain.patients import PatientDemographics
    from amdsync.store.alarms import AlarmState
    from amdsync.store.failed_work import DynamoFailedWork
    from amdsync.store.journal import DynamoAuditLog
    from amdsync.store.queue import SqsJobQueue
    from amdsync.sync.amd_adapter import AdvancedMDAdapter, CountingMetrics
    from amdsync.sync.amd_patient_adapter import AdvancedMDPatients
    from amdsync.sync.context import SyncContext
    from amdsync.sync.metrics import MetricsSink
    from amdsync.sync.ports import (
        AmdPatients,
        AmdScheduler,
        CallCounter,
        ChangeFeed,
        ConflictStore,
        SyncLogs,
    )
    from amdsync.sync.webhooks import WebhookServices
    from amdsync.web.amd_admin import AmdAdminService

DEFAULT_CONFIRM_METHOD = "1"


class OnFirstUse:
    """Stands in for an adapter until something uses it: then builds it (once) and forwards.
    Lets every request get a full SyncContext without building the AMD client it may not use."""

    def __init__(self, build: Callable[[], object]) -> None:
        self._build = build
        self._inner: object | None = None

    def __getattr__(self, name: str) -> Any:
        if self._inner is None:
            self._inner = self._build()
        return getattr(self._inner, name)


class PowertoolsMetrics:
    """MetricsSink over the function's Powertools Metrics (EMF, namespace AMDSync).

    Every point goes into the function's metric set (dimension `service` only: what the alarms
    watch). A point with extra dimensions (e.g. `error_type` on SyncFailed, SPEC §7) is also
    emitted on its own with those dimensions, for the breakdown on the dashboard. Dimension
    values are codes and entity kinds, never ids or PHI.
    """

    def __init__(self, metrics: Any) -> None:
        self._metrics = metrics

    def count(self, name: str, value: int = 1, **dimensions: str) -> None:
        self._emit(name, "Count", value, dimensions)

    def milliseconds(self, name: str, value: float, **dimensions: str) -> None:
        self._emit(name, "Milliseconds", value, dimensions)

    def _emit(self, name: str, unit: str, value: float, dimensions: dict[str, str]) -> None:
        from aws_lambda_powertools.metrics import MetricUnit, single_metric

        self._metrics.add_metric(name=name, unit=MetricUnit(unit), value=value)
        if not dimensions:
            return
        with single_metric(
            name=name,
            unit=MetricUnit(unit),
            value=value,
            namespace=METRICS_NAMESPACE,
            default_dimensions=self._metrics.default_dimensions,
        ) as metric:
            for key, dimension in dimensions.items():
                metric.add_dimension(name=key, value=dimension)


@dataclass
class Services:
    """Everything a function needs for one practice, built on first use."""

    settings: AmdSettings
    metrics: MetricsSink
    # 0 = never sleep for rate budget (raise RateLimited so the queue defers the job).
    max_rate_wait: float = 0.0
    # The per-minute AMD limits the rate limiter enforces. None = PROTOCOL §6 (production);
    # tests and tools that run against a simulator with other limits pass their own table.
    limits: LimitTable | None = None
    # The product's clock (real time in AWS); a benchmark or test may share a simulated one
    # with the AMD simulator so rate windows and token lifetimes agree.
    clock: Clock = field(default_factory=SystemClock)
    # Time left in the current invocation; handlers set it per invocation (amd/budget.py).
    deadline: Deadline = field(default_factory=Deadline)

    @cached_property
    def credentials(self) -> AmdCredentials:
        from amdsync.amd.config import load_credentials

        credentials = load_credentials(self.settings.amd_secret_name)
        # The environment names the partner-login endpoint, and the domains the credentials may
        # be sent to (endpoints are configuration).
        return credentials.model_copy(
            update={
                "partner_login_url": self.settings.amd_partner_login_url,
                "trusted_hosts": self.settings.trusted_hosts,
            }
        )

    @cached_property
    def _phi_hash_key(self) -> bytes:
        """The demographics fingerprint key, read from Secrets Manager once per process (on
        the first fingerprint: functions that never fingerprint never need it)."""
        secret = self.settings.phi_hash_key_secret
        if not secret:
            raise ConfigError(
                f"{type(self.settings).__name__}: PHI_HASH_KEY_SECRET (missing): "
                "needed to fingerprint patient demographics"
            )
        value = boto3.client("secretsmanager").get_secret_value(SecretId=secret)["SecretString"]
        return str(value).encode("utf-8")

    def fingerprint(self, demographics: PatientDemographics) -> str:
        """The keyed digest (HMAC-SHA256) the patient record stores instead of demographics."""
        return demographics.fingerprint(self._phi_hash_key)

    @property
    def practice(self) -> str:
        """The opaque practice id (never the office key, which stays in the secret)."""
        return self.settings.practice_id

    @cached_property
    def _dynamodb(self) -> Any:
        # DynamoDB validates every request itself; botocore's client-side check of the same
        # shapes was ~15 % of the pull's CPU per visit (issue 15 item 6).
        return boto3.resource("dynamodb", config=Config(parameter_validation=False))

    @cached_property
    def _sqs(self) -> Any:
        return boto3.client("sqs")

    @cached_property
    def counter(self) -> CountingMetrics:
        from amdsync.sync.amd_adapter import CountingMetrics

        return CountingMetrics(self.metrics)

    @cached_property
    def amd(self) -> AdvancedMD:
        from zoneinfo import ZoneInfo

        from amdsync.amd.budget import derive_budget
        from amdsync.amd.client import ClientOptions
        from amdsync.amd.service import build_advancedmd
        from amdsync.amd.transport import Transport
        from amdsync.store.lookup_cache import DynamoLookupCache
        from amdsync.store.rate_buckets import DynamoRateBuckets
        from amdsync.store.token_cache import DynamoTokenCache

        zone = ZoneInfo(self.settings.practice_timezone)
        budget = derive_budget(self.settings.function_timeout_seconds)
        options = ClientOptions(
            timezone=zone,
            max_rate_wait=self.max_rate_wait,
            retry=budget.retry,
            deadline=self.deadline,
            write_needs=budget.worst_call_seconds,
        )
        return build_advancedmd(
            self.credentials,
            scope=self.settings.practice_id,
            token_cache=DynamoTokenCache(self._table(self.settings.control_table)),
            rate_buckets=DynamoRateBuckets(self._table(self.settings.control_table)),
            lookup_cache=DynamoLookupCache(self._table(self.settings.cache_table)),
            clock=self.clock,
            transport=Transport(timeouts=budget.timeouts),
            options=options,
            limits=self.limits,
            metrics=self.counter,
        )

    @cached_property
    def queue(self) -> SqsJobQueue:
        from amdsync.store.queue import SqsJobQueue

        return SqsJobQueue(
            self._sqs, self.settings.sync_queue_url, self.settings.background_queue_url
        )

    def notify(self, topic_arn: str, subject: str, message: str) -> None:
        """Publish to the alarm topic (ids and counts only: the callers build PHI-free text)."""
        boto3.client("sns").publish(TopicArn=topic_arn, Subject=subject[:100], Message=message)

    def dead_letters(self) -> DynamoFailedWork:
        """Where the worker keeps jobs it gave up on (listed at GET /sync/failed)."""
        from amdsync.store.failed_work import DynamoFailedWork

        return DynamoFailedWork(self._table(self.settings.sync_table), self.practice, self.clock)

    def failed_work(self) -> DynamoFailedWork:
        return self.dead_letters()

    def audit_log(self) -> DynamoAuditLog:
        from amdsync.store.journal import DynamoAuditLog

        return DynamoAuditLog(self._table(self.settings.audit_table), self.practice)

    def notify_pull_blocked(self) -> None:
        """The mass-change guard stopped a pull: the same notice whether the schedule (pull
        function) or the pull button (worker) ran it."""
        from amdsync.sync.pull_notice import BLOCKED_MESSAGE, BLOCKED_SUBJECT

        if not self.settings.alarm_topic_arn:
            raise ConfigError(f"{type(self.settings).__name__}: ALARM_TOPIC_ARN (missing)")
        self.notify(self.settings.alarm_topic_arn, BLOCKED_SUBJECT, BLOCKED_MESSAGE)

    def alarm_states(self) -> list[AlarmState]:
        """The current state of each of the stack's alarms (ALARM_NAMES)."""
        from amdsync.store.alarms import CloudWatchAlarms

        names = [n.strip() for n in self.settings.alarm_names.split(",")]
        return CloudWatchAlarms(boto3.client("cloudwatch"), names).states()

    def _table(self, name: str) -> Any:
        return self._dynamodb.Table(name)

    def context(self) -> SyncContext:
        from zoneinfo import ZoneInfo

        from amdsync.store.admin import DynamoConflicts, DynamoMappings, DynamoSettings
        from amdsync.store.appointments import DynamoAppointments
        from amdsync.store.control import DynamoBulkJobs, DynamoLeases, DynamoWatermark
        from amdsync.store.feed import DynamoChangeFeed
        from amdsync.store.journal import DynamoAuditTrail, DynamoSyncLogs
        from amdsync.store.patients import DynamoPatients
        from amdsync.store.pulls import DynamoPullRequests, DynamoPullWindows
        from amdsync.sync.context import SyncContext

        practice = self.practice
        state = self._table(self.settings.sync_table)
        control = self._table(self.settings.control_table)
        # The AMD adapters are built on first use (most requests never call AMD).
        adapter = OnFirstUse(lambda: self.amd_adapter)
        feed, logs, conflicts = self._announcing_stores(
            DynamoChangeFeed(state, practice),
            DynamoSyncLogs(self._table(self.settings.logs_table), practice),
            DynamoConflicts(state, practice),
        )
        return SyncContext(
            practice=practice,
            timezone=ZoneInfo(self.settings.practice_timezone),
            clock=self.clock,
            appointments=DynamoAppointments(state, practice),
            patients=DynamoPatients(state, practice),
            settings=DynamoSettings(state, practice),
            mappings=DynamoMappings(state, practice),
            conflicts=conflicts,
            feed=feed,
            logs=logs,
            audit=DynamoAuditTrail(self._table(self.settings.audit_table), practice),
            watermark=DynamoWatermark(control, practice),
            leases=DynamoLeases(control, practice),
            bulk_jobs=DynamoBulkJobs(control, practice),
            pull_windows=DynamoPullWindows(control, practice),
            pull_requests=DynamoPullRequests(control, practice),
            queue=self.queue,
            scheduler=cast("AmdScheduler", adapter),
            amd_patients=cast("AmdPatients", OnFirstUse(lambda: self.amd_patients)),
            metrics=self.metrics,
            amd_calls=cast("CallCounter", adapter),
            fingerprint=self.fingerprint,
        )

    def invocation_context(self) -> SyncContext:
        """The context for one worker invocation (a batch of jobs): the settings and the
        mappings its jobs read come from DynamoDB once per invocation, not once per job
        (sync/read_cache.py). Built afresh per invocation, so nothing outlives it."""
        from amdsync.sync.read_cache import CachedMappings, CachedSettings

        ctx = self.context()
        return replace(
            ctx, mappings=CachedMappings(ctx.mappings), settings=CachedSettings(ctx.settings)
        )

    @cached_property
    def amd_adapter(self) -> AdvancedMDAdapter:
        from amdsync.sync.amd_adapter import AdvancedMDAdapter

        confirm = os.environ.get("AMD_CONFIRM_METHOD_ID", DEFAULT_CONFIRM_METHOD)
        return AdvancedMDAdapter(self.amd, self.counter, confirm)

    @cached_property
    def amd_patients(self) -> AdvancedMDPatients:
        from amdsync.sync.amd_patient_adapter import AdvancedMDPatients

        return AdvancedMDPatients(self.amd)

    def amd_admin(self) -> AmdAdminService:
        from amdsync.web.amd_admin import AmdAdminService

        return AmdAdminService(self)

    def _announcing_stores(
        self, feed: ChangeFeed, logs: SyncLogs, conflicts: ConflictStore
    ) -> tuple[ChangeFeed, SyncLogs, ConflictStore]:
        """The stores whose writes raise webhook events, when a webhook queue is configured."""
        from amdsync.store.webhooks import DynamoWebhooks, SqsWebhookQueue
        from amdsync.sync.webhook_emitters import (
            ConflictsWithWebhooks,
            FeedWithWebhooks,
            LogsWithWebhooks,
        )
        from amdsync.sync.webhooks import WebhookPublisher

        queue_url = self.settings.webhook_queue_url
        if not queue_url:
            return feed, logs, conflicts
        store = DynamoWebhooks(self._table(self.settings.sync_table), self.practice)
        queue = SqsWebhookQueue(self._sqs, queue_url)
        publisher = WebhookPublisher(store, queue, self.clock, self.metrics)
        return (
            FeedWithWebhooks(feed, publisher),
            LogsWithWebhooks(logs, publisher),
            ConflictsWithWebhooks(conflicts, publisher),
        )

    def webhooks(self) -> WebhookServices:
        return webhook_services(self.settings, self._dynamodb, self.clock, self.metrics)


def webhook_services(
    settings: TableSettings, dynamodb: Any, clock: Clock, metrics: MetricsSink
) -> WebhookServices:
    """Subscriptions, guard and sender, for the API (CRUD, test ping) and the delivery function."""
    from amdsync.store.webhooks import DynamoWebhooks
    from amdsync.sync.webhook_guard import UrlGuard
    from amdsync.sync.webhook_signing import HttpxSender
    from amdsync.sync.webhooks import WebhookDeliverer, WebhookServices

    store = DynamoWebhooks(dynamodb.Table(settings.sync_table), settings.practice_id)
    guard = UrlGuard.from_setting(settings.insecure_webhook_hosts)
    deliverer = WebhookDeliverer(store, HttpxSender(), guard, clock, metrics)
    return WebhookServices(store=store, guard=guard, deliverer=deliverer, clock=clock)
