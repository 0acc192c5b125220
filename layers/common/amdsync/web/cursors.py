"""Opaque cursors over a store's own page position (e.g. DynamoDB's LastEvaluatedKey): base64
of compact JSON. Stores validate what comes back; a cursor that does not decode is 400."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from amdsync.web.problems import Problem

MAX_CURSOR_CHARS = 1024


def bad_cursor() -> Problem:
    return Problem(400, "BAD_CURSOR", "The cursor is not one this API issued.")


def encode_position(position: Any) -> str:
    raw = json.dumps(position, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_position(cursor: str | None) -> Any:
    if not cursor:
        return None
    if len(cursor) > MAX_CURSOR_CHARS:
        raise bad_cursor()
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error):
        raise bad_cursor() from None
