"""Powertools logger, metrics and tracer, one set per function (service name from env).

Only ids, codes and counts are ever passed to these: never names, dates of birth, notes, phone
numbers, addresses, passwords, tokens or unmasked office keys.
"""

from aws_lambda_powertools import Logger, Metrics, Tracer

METRICS_NAMESPACE = "AMDSync"

logger = Logger()
metrics = Metrics(namespace=METRICS_NAMESPACE)
tracer = Tracer()


def mask_office_key(office_key: str) -> str:
    """Show only the last two characters, as the settings page does (`••••82`)."""
    return "••••" + office_key[-2:] if office_key else ""
