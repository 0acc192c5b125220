"""`MetricsSink` over Powertools `Metrics` (EMF, namespace `AMDSync`).

Metric names used by the client: AmdCalls, AmdRetries, Logins, SessionExpired, RateLimitHits
(AMD answered 429), RateLimitWaits, RateLimitDeferrals, LookupCacheHits, LookupCacheMisses,
LookupInvalidations. AmdCalls carries the call's AMD tier (`tier`: T1, T2, T3; SPEC §7 "AMD
calls by tier"); nothing about a patient ever reaches a metric.
"""

from __future__ import annotations

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

NAMESPACE = "AMDSync"


class PowertoolsMetrics:
    def __init__(self, metrics: Metrics | None = None) -> None:
        self._metrics = metrics or Metrics(namespace=NAMESPACE)

    def count(self, name: str, value: int = 1, **dimensions: str) -> None:
        self._metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
        if dimensions:  # also on its own, with its dimensions (compose.PowertoolsMetrics)
            with single_metric(
                name=name,
                unit=MetricUnit.Count,
                value=value,
                namespace=NAMESPACE,
                default_dimensions=self._metrics.default_dimensions,
            ) as metric:
                for key, dimension in dimensions.items():
                    metric.add_dimension(name=key, value=dimension)
