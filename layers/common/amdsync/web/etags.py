"""ETags and `If-Match` (SPEC §6, §9.1).

A record's ETag is a digest of its representation, so any change to what a GET shows changes
it. `If-Match` on a write is compared with the ETag a GET would answer right now: a mismatch is
`412 PRECONDITION_FAILED` and nothing is written. Settings carry their stored version in the
ETag, so their check is the conditional write itself (no window between check and write).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from amdsync.web.problems import Problem

SETTINGS_PREFIX = "settings-v"


def etag_of(body: str) -> str:
    return '"' + hashlib.sha256(body.encode()).hexdigest()[:32] + '"'


def settings_etag(version: int) -> str:
    return f'"{SETTINGS_PREFIX}{version}"'


def _tags(header: str) -> list[str]:
    return [tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()]


def if_match(headers: Mapping[str, str]) -> list[str] | None:
    """The request's `If-Match` tags; None when the header is absent (no precondition)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    header = lowered.get("if-match")
    return None if header is None else _tags(header)


def precondition_failed() -> Problem:
    return Problem(
        412,
        "PRECONDITION_FAILED",
        "The resource changed since you read it (If-Match did not match); read it again.",
    )


def require_match(headers: Mapping[str, str], current: str | None) -> None:
    """Raise 412 when `If-Match` is given and names neither `*` (for an existing resource)
    nor the current ETag (`current` None: the resource does not exist)."""
    tags = if_match(headers)
    if tags is None:
        return
    if current is None or ("*" not in tags and current not in tags):
        raise precondition_failed()


def expected_settings_version(headers: Mapping[str, str], current: int) -> int:
    """The settings version a write must replace: the one `If-Match` names, else the current."""
    tags = if_match(headers)
    if tags is None or "*" in tags:
        return current
    for tag in tags:
        text = tag.strip('"')
        if text.startswith(SETTINGS_PREFIX) and text[len(SETTINGS_PREFIX) :].isdigit():
            return int(text[len(SETTINGS_PREFIX) :])
    raise precondition_failed()
