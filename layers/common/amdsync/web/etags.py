"""ETags and `If-Match` (SPEC §6, §9.1).

A record's ETag is a digest of its representation, so any change to what a GET shows changes
it. `If-Match` on a write is compared with the ETag a GET would answer right now: a mismatch is
`412 PRECONDITION_FAILED` and nothing is written. Settings carry their stored version in the
ETag, so their check is the conditional write itself (no window between check and write).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping

from amdsync.web.problems import Problem

SETTINGS_PREFIX = "settings-v"


def etag_of(body: str) -> str:
    return '"' + hashlib.sha256(body.encode()).hexdigest()[:32] + '"'


def settings_etag(version: int) -> str:
    return f'"{SETTINGS_PREFIX}{version}"'


def _listed(header: str) -> list[str]:
    return [tag.strip() for tag in header.split(",")]


def _tags(header: str) -> list[str]:
    return [tag.removeprefix("W/") for tag in _listed(header) if tag]


def _header(headers: Mapping[str, str], name: str) -> str | None:
    lowered = {k.lower(): v for k, v in headers.items()}
    return lowered.get(name)


def if_match(headers: Mapping[str, str]) -> list[str] | None:
    """The request's `If-Match` tags; None when the header is absent (no precondition)."""
    header = _header(headers, "if-match")
    return None if header is None else _tags(header)


def not_modified(headers: Mapping[str, str], etag: str) -> bool:
    """`If-None-Match` names `etag` as sent: the client's copy is current (answer 304)."""
    return etag in _listed(_header(headers, "if-none-match") or "")


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


def require_current(headers: Mapping[str, str], current: Callable[[], str | None]) -> None:
    """`require_match` against `current()`, called only when `If-Match` is given: reading the
    resource to learn its ETag costs a read a request without a precondition need not make."""
    if if_match(headers) is not None:
        require_match(headers, current())


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
