"""Framework-free request/response values passed between the HTTP server and the simulator."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    body: bytes = b""

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")

    def param(self, name: str) -> str | None:
        """Case-insensitive query parameter (REST clients vary in casing)."""
        for key, values in self.query.items():
            if key.lower() == name.lower() and values:
                return values[0]
        return None

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8")) if self.body.strip() else None


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)
    drop: bool = False  # close the connection without sending anything


class HttpError(Exception):
    def __init__(self, status: int, detail: str, body: Any | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.body = body


def json_response(
    status: int, payload: Any, headers: list[tuple[str, str]] | None = None
) -> Response:
    return Response(
        status,
        json.dumps(payload).encode("utf-8"),
        "application/json; charset=utf-8",
        headers or [],
    )


def text_response(status: int, text: str) -> Response:
    return Response(status, text.encode("utf-8"))
