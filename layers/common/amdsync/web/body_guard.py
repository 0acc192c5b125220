"""The request body contract checked before routing (SPEC §9.2): media type, then JSON shape.

A body that is not JSON (415), nested deeper than any of our schemas needs, or holding a key
twice (400) is refused here, before Powertools parses it: deep nesting would otherwise raise
RecursionError (a 500) and a duplicate key would silently keep its last value. Answers name the
rule, never the submitted values (they may be PHI).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any, Final

from amdsync.web.problems import Problem

MAX_DEPTH: Final = 20
JSON: Final = "application/json"
MERGE_PATCH: Final = "application/merge-patch+json"
_OPENERS, _CLOSERS = frozenset("[{"), frozenset("]}")


def media_types_for(method: str) -> frozenset[str]:
    return frozenset({MERGE_PATCH}) if method == "PATCH" else frozenset({JSON})


def check_body(event: Mapping[str, Any], method: str) -> None:
    """Raise the problem for a body that breaks the input contract; None when it is fine."""
    text = body_text(event)
    if not text.strip():
        return  # no body: the route's own validation says whether one was required
    allowed = media_types_for(method)
    if _media_type(event) not in allowed:
        raise Problem(
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            f"Send the body as {' or '.join(sorted(allowed))}.",
        )
    if _depth(text) > MAX_DEPTH:
        raise Problem(400, "JSON_TOO_DEEP", f"JSON nesting is limited to {MAX_DEPTH} levels.")
    try:
        json.loads(text, object_pairs_hook=_refuse_duplicates)
    except _DuplicateKey:
        raise Problem(400, "DUPLICATE_KEY", "A JSON object repeats a key.") from None
    except ValueError:
        raise Problem(400, "MALFORMED_REQUEST", "The request body is not valid JSON.") from None


def body_text(event: Mapping[str, Any]) -> str:
    body = str(event.get("body") or "")
    if not event.get("isBase64Encoded"):
        return body
    try:
        return base64.b64decode(body).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise Problem(400, "MALFORMED_REQUEST", "The request body is not valid JSON.") from None


def _media_type(event: Mapping[str, Any]) -> str:
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    return headers.get("content-type", "").split(";")[0].strip().lower()


def _depth(text: str) -> int:
    """Deepest array/object nesting, scanning outside strings (linear, no recursion)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in _OPENERS:
            depth += 1
            deepest = max(deepest, depth)
        elif char in _CLOSERS:
            depth -= 1
    return deepest


class _DuplicateKey(ValueError):
    pass


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey
        result[key] = value
    return result
