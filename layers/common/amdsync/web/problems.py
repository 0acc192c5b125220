"""RFC 9457 problem details: every known failure becomes `application/problem+json` with a
stable `code`, no PHI, no credentials and no stack trace."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response

PROBLEM_TYPE_BASE = "https://amdsync.invalid/problems/"
CONTENT_TYPE = "application/problem+json"

TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    409: "Conflict",
    412: "Precondition failed",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal error",
    502: "AdvancedMD error",
    503: "AdvancedMD unavailable",
}


def title_for(status: int) -> str:
    """Our wording for the statuses we answer; HTTP's reason phrase for any other."""
    if status in TITLES:
        return TITLES[status]
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


class Problem(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        retry_after: int | None = None,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}")
        self.status = status
        self.code = code
        self.detail = detail
        self.retry_after = retry_after
        self.errors = errors

    def response(self) -> Response[str]:
        body: dict[str, Any] = {
            "type": PROBLEM_TYPE_BASE + self.code.lower().replace("_", "-"),
            "title": title_for(self.status),
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
        }
        if self.errors:
            body["errors"] = self.errors
        headers = {"Retry-After": str(self.retry_after)} if self.retry_after is not None else None
        return Response(
            status_code=self.status,
            content_type=CONTENT_TYPE,
            body=json.dumps(body),
            headers=headers,
        )


def _scrubbed(message: str, submitted: Any) -> str:
    """The message without the submitted value (custom validators may quote what they got)."""
    if isinstance(submitted, str | int | float) and not isinstance(submitted, bool):
        text = str(submitted)
        if len(text) >= 2 and text in message:
            message = message.replace(repr(text), "(value)").replace(text, "(value)")
    return message


def validation_problem(errors: list[dict[str, Any]]) -> Problem:
    """Pydantic/Powertools validation errors -> 400 (unparseable) or 422 (invalid), naming
    fields but never echoing the submitted values (they may be PHI)."""
    cleaned: list[dict[str, Any]] = []
    malformed = False
    for err in errors:
        kind = str(err.get("type", "invalid"))
        malformed = malformed or kind in ("json_invalid", "model_attributes_type")
        location = [str(part) for part in err.get("loc", ()) if part not in ("body",)]
        message = _scrubbed(str(err.get("msg", "")), err.get("input"))
        cleaned.append(
            {
                "field": ".".join(location) or "body",
                "problem": kind,
                "message": message[:200],
            }
        )
    if malformed:
        return Problem(
            400, "MALFORMED_REQUEST", "The request body is not valid JSON.", errors=cleaned
        )
    names = ", ".join(e["field"] for e in cleaned) or "body"
    return Problem(422, "VALIDATION_FAILED", f"Invalid or unknown fields: {names}.", errors=cleaned)
