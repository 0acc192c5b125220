"""Keys of the AMD control items (token, lease, pacing item) and lookup cache.

Never the office key (issue 16: it lives only in the secret): the pacing item and lookups are
scoped by the opaque practice id, the token by a hash of whose token it is."""

from __future__ import annotations

from datetime import datetime


def amd_pk(scope: str) -> str:
    return f"AMD#{scope}"


def epoch(instant: datetime) -> int:
    """DynamoDB TTL attribute value (`expiresAt`, epoch seconds)."""
    return int(instant.timestamp())
