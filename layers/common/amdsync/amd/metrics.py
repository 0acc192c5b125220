"""`MetricsSink` over Powertools `Metrics` (EMF, namespace `AMDSync`).

Metric names used by the client: AmdCalls, AmdRetries, Logins, SessionExpired, RateLimitHits
(AMD answered 429), RateLimitWaits, RateLimitDeferrals, LookupCacheHits, LookupCacheMisses,
LookupInvalidations. Dimension-free counts: nothing about a patient ever reaches a metric.
"""

from __future__ import annotations

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

NAMESPACE = "AMDSync"


class PowertoolsMetrics:
    def __init__(self, metrics: Metrics | None = None) -> None:
        self._metrics = metrics or Metrics(namespace=NAMESPACE)

    def count(self, name: str, value: int = 1) -> None:
        self._metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
