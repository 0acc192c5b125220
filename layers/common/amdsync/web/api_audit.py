"""The audit trail (SPEC §9.4): who did what to which entity, newest first, filtered, paged."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, get_args
from zoneinfo import ZoneInfo

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import Field

from amdsync.domain.audit_query import AuditQuery
from amdsync.domain.journal import AuditEntry, EntityType
from amdsync.web.context import services_of
from amdsync.web.cursors import bad_cursor, decode_position, encode_position
from amdsync.web.paging import check_limit
from amdsync.web.problems import Problem
from amdsync.web.routes import BASE_PATH
from amdsync.web.views import View

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]
DEFAULT_DAYS = 90
CLOCK_MARGIN = timedelta(minutes=1)
ENTITY_TYPES = frozenset(get_args(EntityType))
MAX_FILTER_CHARS = 128


class ActorView(View):
    subject: str
    role: str


class AuditEntryView(View):
    at: datetime
    actor: ActorView
    action: str
    entity_type: str = Field(alias="entityType")
    entity_id: str = Field(alias="entityId")
    outcome: str
    details: dict[str, str | int | bool | None]


class AuditPage(View):
    items: list[AuditEntryView]
    next_cursor: str | None = Field(default=None, alias="nextCursor")


def _view(entry: AuditEntry) -> AuditEntryView:
    return AuditEntryView(
        at=entry.at,
        actor=ActorView(subject=entry.subject, role=entry.role),
        action=entry.action,
        entity_type=entry.entity_type,
        entity_id=entry.entity_id,
        outcome=entry.outcome,
        details=entry.details,
    )


def _invalid(field: str, message: str) -> Problem:
    return Problem(
        422,
        "VALIDATION_FAILED",
        f"Invalid or unknown fields: {field} ({message}).",
        errors=[{"field": field, "problem": "invalid", "message": message}],
    )


def _instant(value: str, field: str, zone: ZoneInfo, *, end: bool) -> datetime:
    """A date is a whole day in the practice's zone (`to` includes it); a date-time with an
    offset is that instant; one without an offset is practice-local wall time."""
    try:
        if len(value) == len("YYYY-MM-DD"):
            day = date.fromisoformat(value) + timedelta(days=1 if end else 0)
            return datetime.combine(day, time.min, zone)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise _invalid(field, "a date YYYY-MM-DD or an ISO 8601 date-time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def _filter(value: str | None, field: str) -> str | None:
    if value is None or value == "":
        return None
    if len(value) > MAX_FILTER_CHARS or not value.isprintable():
        raise _invalid(field, f"printable text of at most {MAX_FILTER_CHARS} characters")
    return value


def build_query(params: dict[str, str | None], now: datetime, zone: ZoneInfo) -> AuditQuery:
    # Without `to`, up to now inclusive, with a margin for another function's clock.
    end = _instant(params["to"], "to", zone, end=True) if params["to"] else now + CLOCK_MARGIN
    start = (
        _instant(params["from"], "from", zone, end=False)
        if params["from"]
        else end - timedelta(days=DEFAULT_DAYS)
    )
    if start >= end:
        raise _invalid("from", "must be before to")
    entity_type = _filter(params["entityType"], "entityType")
    if entity_type is not None and entity_type not in ENTITY_TYPES:
        raise _invalid("entityType", "one of " + ", ".join(sorted(ENTITY_TYPES)))
    return AuditQuery(
        start=start,
        end=end,
        entity_type=entity_type,
        entity_id=_filter(params["entityId"], "entityId"),
        actor=_filter(params["actor"], "actor"),
        action=_filter(params["action"], "action"),
    )


@router.get(
    f"{BASE_PATH}/audit",
    tags=["admin"],
    summary=(
        "Audit trail, newest first, paged; filters entityType, entityId, actor (subject), "
        "action, from/to (dates are practice-local days; default the last 90 days)"
    ),
)
def get_audit(
    *,
    entityType: Annotated[str | None, Query()] = None,
    entityId: Annotated[str | None, Query()] = None,
    actor: Annotated[str | None, Query()] = None,
    action: Annotated[str | None, Query()] = None,
    from_: Annotated[str | None, Query(alias="from")] = None,
    to: Annotated[str | None, Query()] = None,
    cursor: Annotated[str | None, Query()] = None,
    limit: Annotated[int | None, Query()] = None,
) -> AuditPage:
    services = services_of(router)
    ctx = services.context()
    params = {
        "entityType": entityType,
        "entityId": entityId,
        "actor": actor,
        "action": action,
        "from": from_,
        "to": to,
    }
    query = build_query(params, ctx.clock.now(), ctx.timezone)
    position: Any = decode_position(cursor)
    if position is not None and not isinstance(position, dict):
        raise bad_cursor()
    try:
        entries, after = services.audit_log().page(query, position, check_limit(limit))
    except ValueError:
        raise bad_cursor() from None
    return AuditPage(
        items=[_view(e) for e in entries],
        next_cursor=encode_position(after) if after else None,
    )
