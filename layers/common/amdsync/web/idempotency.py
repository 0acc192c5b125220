"""`Idempotency-Key` on mutating routes (SPEC §4), built on Powertools idempotency.

A client that may retry a POST or PUT (a timeout, a lost reply) sends an `Idempotency-Key`
header. The first request with that key runs and its response is stored in the control table
(DynamoDB, item `pk = <practice>#IDEMPOTENCY`, `sk = api#<hash>`, TTL attribute `expiresAt`,
24 h); a repeat within the TTL gets the stored status, headers and body back, marked
`Idempotent-Replayed: true`, without running the route again.

- The identity of a request is the caller (token subject), its route (method + path template),
  its path ids and the key: the same key from another caller, on another route or another id is
  another request, so one caller can never be answered with another's stored response.
- The body is validated: the same key with a different body is refused with 422
  `IDEMPOTENCY_KEY_REUSED` (bodies are compared as parsed JSON, so whitespace does not matter).
- A repeat while the first is still running gets 409 `IDEMPOTENCY_KEY_IN_PROGRESS` with
  `Retry-After`; the in-progress lock ends with the Lambda's remaining time, so a crashed
  request does not block its key for a day.
- Only successful answers are stored: a route that raises (404, 409, 422, 503, ...) leaves
  nothing behind, so retrying with the same key runs again.
- Without the header, or on GET, requests behave exactly as without this middleware. A key
  must be 1-255 visible ASCII characters (422 naming `Idempotency-Key` otherwise).
- If the store itself fails, the request is answered 503 `IDEMPOTENCY_UNAVAILABLE` rather
  than run without protection.

The middleware runs after authentication and request validation (so only authorised, valid
requests are stored) and takes a factory for the persistence layer, so tests pass any
`BasePersistenceLayer` and the function builds its DynamoDB client only on first use.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

from amdsync.observability import logger
from amdsync.web.problems import Problem

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import (
        BasePersistenceLayer,
        IdempotencyConfig,
    )

HEADER = "idempotency-key"
REPLAYED_HEADER = "Idempotent-Replayed"
MUTATING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_KEY_LENGTH = 255
EXPIRES_AFTER_SECONDS = 24 * 3600
KEY_PREFIX = "api"
# Routes whose answer must never be stored: creating a webhook answers its signing secret once
# (SPEC §9.4); a PUT is idempotent by itself (a repeat replaces, answering 200 without it).
UNSTORED_ROUTES = frozenset({"PUT /api/advancedmd/webhooks/{webhookId}"})

PersistenceFactory = Callable[[], "BasePersistenceLayer"]
Middleware = Callable[[APIGatewayHttpResolver, NextMiddleware], Response[Any]]


def dynamodb_persistence(table_name: str, practice: Callable[[], str]) -> PersistenceFactory:
    """The control table as the idempotency store (built on first use, then reused)."""
    built: list[BasePersistenceLayer] = []

    def factory() -> BasePersistenceLayer:
        if not built:
            from aws_lambda_powertools.utilities.idempotency import (  # noqa: PLC0415 - cold start
                DynamoDBPersistenceLayer,
            )

            built.append(
                DynamoDBPersistenceLayer(
                    table_name=table_name,
                    key_attr="pk",
                    sort_key_attr="sk",
                    static_pk_value=f"{practice()}#IDEMPOTENCY",
                    expiry_attr="expiresAt",
                    in_progress_expiry_attr="inProgressExpiresAt",
                )
            )
        return built[0]

    return factory


@cache
def _config(expires_after_seconds: int) -> IdempotencyConfig:
    # Imported on the first keyed request, not at cold start (reads never need it).
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig  # noqa: PLC0415

    return IdempotencyConfig(
        event_key_jmespath="[caller, route, pathIds, key]",
        payload_validation_jmespath="body",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=expires_after_seconds,
    )


def idempotency_middleware(
    persistence: PersistenceFactory, expires_after_seconds: int = EXPIRES_AFTER_SECONDS
) -> Middleware:
    def middleware(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[Any]:
        event = app.current_event
        key = event.headers.get(HEADER)
        if event.http_method.upper() not in MUTATING_METHODS or key is None:
            return next_middleware(app)
        if str(event.raw_event.get("routeKey")) in UNSTORED_ROUTES:
            _checked(key)
            return next_middleware(app)
        request = {
            "caller": _subject(event.raw_event),
            "route": str(event.raw_event.get("routeKey") or event.path),
            "pathIds": dict(sorted((event.path_parameters or {}).items())),
            "key": _checked(key),
            "body": _comparable(event.body),
        }
        from aws_lambda_powertools.utilities.idempotency import (  # noqa: PLC0415
            idempotent_function,
        )
        from aws_lambda_powertools.utilities.idempotency.exceptions import (  # noqa: PLC0415
            IdempotencyAlreadyInProgressError,
            IdempotencyPersistenceLayerError,
            IdempotencyValidationError,
        )

        config = _config(expires_after_seconds)
        ran: list[bool] = []

        def run(request: dict[str, Any]) -> dict[str, Any]:
            ran.append(True)
            return _record(next_middleware(app))

        if app.lambda_context is not None:
            config.register_lambda_context(app.lambda_context)
        guarded = idempotent_function(
            run,
            data_keyword_argument="request",
            persistence_store=persistence(),
            config=config,
            key_prefix=KEY_PREFIX,
        )
        try:
            stored: dict[str, Any] = guarded(request=request)
        except IdempotencyValidationError:
            raise Problem(
                422,
                "IDEMPOTENCY_KEY_REUSED",
                "This Idempotency-Key was used with a different request body.",
            ) from None
        except IdempotencyAlreadyInProgressError:
            raise Problem(
                409,
                "IDEMPOTENCY_KEY_IN_PROGRESS",
                "A request with this Idempotency-Key is still running; retry shortly.",
                retry_after=2,
            ) from None
        except IdempotencyPersistenceLayerError as exc:
            logger.warning("idempotency store failed", extra={"error_type": type(exc).__name__})
            raise Problem(
                503,
                "IDEMPOTENCY_UNAVAILABLE",
                "Idempotency records cannot be checked right now; retry later.",
                retry_after=5,
            ) from None
        return _response(stored, replayed=not ran)

    return middleware


def _checked(key: str) -> str:
    if not 0 < len(key) <= MAX_KEY_LENGTH or not all(33 <= ord(c) <= 126 for c in key):
        raise Problem(
            422,
            "VALIDATION_FAILED",
            f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} visible ASCII characters.",
            errors=[{"field": "Idempotency-Key", "problem": "invalid", "message": "bad key"}],
        )
    return key


def _comparable(body: str | None) -> Any:
    """The parsed body (so formatting does not matter); the raw text if it is not JSON."""
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return body


def _record(response: Response[Any]) -> dict[str, Any]:
    body = response.body
    if body is None:
        text = ""
    elif isinstance(body, bytes):
        text = body.decode()
    elif isinstance(body, str):
        text = body
    else:
        text = json.dumps(body, separators=(",", ":"), default=str)
    headers = {
        name: value if isinstance(value, str) else ",".join(value)
        for name, value in response.headers.items()
    }
    return {"status": response.status_code, "headers": headers, "body": text}


def _response(stored: dict[str, Any], *, replayed: bool) -> Response[str]:
    headers: dict[str, str | list[str]] = dict(stored["headers"])
    if replayed:
        headers[REPLAYED_HEADER] = "true"
    content_type = str(headers.pop("Content-Type", "application/json"))
    return Response(
        status_code=int(stored["status"]),
        content_type=content_type,
        body=stored["body"],
        headers=headers,
    )


def _subject(raw_event: dict[str, Any]) -> str:
    """The authorizer's `sub` claim ("" on public routes, which are never keyed anyway)."""
    context = raw_event.get("requestContext") or {}
    claims = ((context.get("authorizer") or {}).get("jwt") or {}).get("claims") or {}
    return str(claims.get("sub", ""))
