"""Powertools logger, metrics and tracer, one set per function (service name from env).

Only ids, codes and counts are ever passed to these: never names, dates of birth, notes, phone
numbers, addresses, passwords, tokens or unmasked office keys.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from aws_lambda_powertools.logging import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import Metrics

if TYPE_CHECKING:
    from aws_lambda_powertools.tracing import Tracer

Handler = TypeVar("Handler", bound=Callable[..., Any])

METRICS_NAMESPACE = "AMDSync"
# The AMD client and its helpers log through the standard library (they know nothing of
# Lambda); the package's root logger is bridged into the function's Powertools logger.
LIBRARY_LOGGER = "amdsync"


class LazyTracer:
    """The Powertools Tracer, created on the first invocation instead of at import: creating
    it loads the X-Ray SDK (about a third of the API's cold import), which no import-time
    code needs. Same decorator as `Tracer.capture_lambda_handler`."""

    def __init__(self) -> None:
        self._tracer: Tracer | None = None

    @property
    def tracer(self) -> Tracer:
        if self._tracer is None:
            from aws_lambda_powertools.tracing import Tracer  # noqa: PLC0415 (the point)

            self._tracer = Tracer()
        return self._tracer

    def capture_lambda_handler(self, *, capture_response: bool) -> Callable[[Handler], Handler]:
        def decorate(handler: Handler) -> Handler:
            traced: Callable[..., Any] | None = None

            @functools.wraps(handler)
            def run(event: Any, context: Any) -> Any:
                nonlocal traced
                if traced is None:
                    traced = self.tracer.capture_lambda_handler(
                        handler, capture_response=capture_response
                    )
                return traced(event, context)

            return run  # type: ignore[return-value]

        return decorate


logger = Logger()
metrics = Metrics(namespace=METRICS_NAMESPACE)
tracer = LazyTracer()


def bridge_library_logs() -> None:
    """Give the stdlib `amdsync` logger the function logger's handler, formatter and level, so
    the AMD client's lines (`amdsync.amd.*`) are JSON with the same keys (request and
    correlation ids, the message id a worker appends). Module loggers below it propagate to it,
    whenever they are imported (the API imports the AMD client lazily). Call once at cold start.
    """
    parent = logging.getLogger(LIBRARY_LOGGER)  # registers it for the copy below
    copy_config_to_registered_loggers(source_logger=logger, include={LIBRARY_LOGGER})
    parent.propagate = False  # one line per record, not a second one from the root logger


def mask_office_key(office_key: str) -> str:
    """Show only the last two characters, as the settings page does (`••••82`)."""
    return "••••" + office_key[-2:] if office_key else ""
