"""Opaque cursors for list endpoints: base64 of a small JSON position, validated on the way in."""

from __future__ import annotations

import base64
import binascii
import json
from typing import TypeVar

from amdsync.web.problems import Problem

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        offset = int(data["o"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise Problem(400, "BAD_CURSOR", "The cursor is not one this API issued.") from None
    if offset < 0:
        raise Problem(400, "BAD_CURSOR", "The cursor is not one this API issued.")
    return offset


def check_limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    if not 1 <= limit <= MAX_LIMIT:
        raise Problem(422, "VALIDATION_FAILED", f"limit must be between 1 and {MAX_LIMIT}.")
    return limit


def page_of(items: list[T], cursor: str | None, limit: int | None) -> tuple[list[T], str | None]:
    offset = decode_cursor(cursor)
    size = check_limit(limit)
    chunk = items[offset : offset + size]
    more = offset + size < len(items)
    return chunk, encode_cursor(offset + size) if more else None
