"""Powertools logger, metrics and tracer, one set per function (service name from env).

Only ids, codes and counts are ever passed to these: never names, dates of birth, notes, phone
numbers, addresses, passwords, tokens or unmasked office keys.
"""

import logging

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

METRICS_NAMESPACE = "AMDSync"
# The AMD client and its helpers log through the standard library (they know nothing of
# Lambda); the package's root logger is bridged into the function's Powertools logger.
LIBRARY_LOGGER = "amdsync"

logger = Logger()
metrics = Metrics(namespace=METRICS_NAMESPACE)
tracer = Tracer()


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
