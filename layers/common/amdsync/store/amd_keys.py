"""Keys of the AMD control items (token, lease, rate buckets) and lookup cache: per office key."""

from __future__ import annotations

from datetime import datetime


def office_pk(office_key: str) -> str:
    return f"OFFICE#{office_key}"


def epoch(instant: datetime) -> int:
    """DynamoDB TTL attribute value (`expiresAt`, epoch seconds)."""
    return int(instant.timestamp())
