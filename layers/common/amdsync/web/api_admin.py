"""Admin routes: dashboard, logs, stats, settings, connection test, lookups, mappings,
conflicts."""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, timedelta
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from botocore.exceptions import BotoCoreError, ClientError

from amdsync.domain.concurrency import BadPosition, StaleWriteError
from amdsync.domain.journal import AuditEntry, EntityType
from amdsync.domain.mappings import Mapping, MappingKind
from amdsync.domain.review import ConflictResolution
from amdsync.domain.settings import Settings, SettingsReplacement
from amdsync.sync.context import SyncContext
from amdsync.sync.estimate import PACE_WINDOW, estimate_wait, recent_pace
from amdsync.sync.journal import new_id
from amdsync.sync.reports import PERIODS, dashboard, stats_for
from amdsync.sync.resolution import ConflictNotFound, resolve_conflict
from amdsync.web.context import caller_of, services_of
from amdsync.web.cursors import bad_cursor, decode_position, encode_position
from amdsync.web.etags import expected_settings_version, precondition_failed, settings_etag
from amdsync.web.merge_patch import merge_patch
from amdsync.web.paging import check_limit
from amdsync.web.problems import Problem
from amdsync.web.routes import BASE_PATH
from amdsync.web.services import ApiServices
from amdsync.web.views import (
    AlarmView,
    ConnectionReport,
    DashboardView,
    LookupItem,
    Page,
    QueueView,
    SyncStatsView,
)

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]
LOG = logging.getLogger(__name__)
DEFAULT_LOG_DAYS = 7
# Mapping suggestions look at the ids used by appointments in this window around today.
MAPPING_DAYS_BACK = timedelta(days=30)
MAPPING_DAYS_AHEAD = timedelta(days=366)


def queue_now(ctx: SyncContext) -> QueueView:
    depth = ctx.queue.depth()
    now = ctx.clock.now()
    # The latest completions' pace, when the workers rather than AMD's budget set it.
    pace = recent_pace(ctx.logs.between(now - PACE_WINDOW, now), now) if depth else None
    wait = estimate_wait(depth, now, pace=pace)
    return QueueView(depth=depth, estimated_wait_seconds=wait.estimated_wait_seconds)


@router.get(f"{BASE_PATH}/sync/dashboard", tags=["admin"], summary="Sync health at a glance")
def get_dashboard() -> DashboardView:
    services = services_of(router)
    ctx = services.context()
    board = dashboard(ctx)
    lag = (ctx.clock.now() - board.last_pull).total_seconds() if board.last_pull else None
    return DashboardView(
        patients=board.patients,
        appointments=board.appointments,
        charges=board.charges,
        queue=queue_now(ctx),
        rate_limits=services.amd_admin().budgets(),
        last_pull=board.last_pull,
        pull_lag_seconds=lag,
        open_conflicts=board.open_conflicts,
        alarms=_alarms(services),
    )


def _alarms(services: ApiServices) -> list[AlarmView] | None:
    """The stack's alarms now (SPEC §7), alarming first; None if CloudWatch cannot be read
    (the rest of the dashboard still answers)."""
    try:
        states = services.alarm_states()
    except (BotoCoreError, ClientError):
        LOG.warning("the alarms' states could not be read", exc_info=True)
        return None
    return [
        AlarmView(
            name=a.name,
            state=a.state,
            state_text=a.words,
            description=a.description,
            since=a.since,
        )
        for a in states
    ]


def _parse_day(value: str | None, default: date, field: str) -> date:
    if value is None:
        return default
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Problem(
            422,
            "VALIDATION_FAILED",
            f"Invalid or unknown fields: {field} (dates are YYYY-MM-DD).",
            errors=[{"field": field, "problem": "date_parsing", "message": "not a date"}],
        ) from None


@router.get(f"{BASE_PATH}/sync/logs", tags=["admin"], summary="Sync logs, filtered and paged")
def get_logs(
    *,
    entityType: Annotated[str | None, Query()] = None,
    entityId: Annotated[str | None, Query()] = None,
    outcome: Annotated[str | None, Query()] = None,
    from_: Annotated[str | None, Query(alias="from")] = None,
    to: Annotated[str | None, Query()] = None,
    limit: Annotated[int | None, Query()] = None,
    cursor: Annotated[str | None, Query()] = None,
) -> Page:
    ctx = services_of(router).context()
    today = ctx.clock.now().astimezone(UTC).date()
    end_day = _parse_day(to, today, "to")
    start_day = _parse_day(from_, end_day - timedelta(days=DEFAULT_LOG_DAYS - 1), "from")
    if start_day > end_day or (end_day - start_day).days > 31:
        raise Problem(422, "VALIDATION_FAILED", "Choose a range of at most 31 days.")
    filters = {
        name: value
        for name, value in (
            ("entityType", entityType),
            ("entityId", entityId),
            ("outcome", outcome),
        )
        if value is not None
    }
    position = _position(cursor)
    try:
        items, after = ctx.logs.page((start_day, end_day), filters, position, check_limit(limit))
    except BadPosition:
        raise bad_cursor() from None
    next_cursor = None if after is None else encode_position(after)
    return Page(items=[e.model_dump(mode="json") for e in items], next_cursor=next_cursor)


def _position(cursor: str | None) -> dict[str, Any] | None:
    position = decode_position(cursor)
    if position is not None and not isinstance(position, dict):
        raise bad_cursor()
    return position


@router.get(f"{BASE_PATH}/sync/stats", tags=["admin"], summary="Success rate, durations, errors")
def get_stats(period: Annotated[str, Query()] = "24h") -> SyncStatsView:
    if period not in PERIODS:
        raise Problem(422, "VALIDATION_FAILED", "period must be 24h, 7d or 30d.")
    ctx = services_of(router).context()
    stats = stats_for(ctx, period)
    return SyncStatsView(**stats.model_dump(by_alias=False), queue_depth=ctx.queue.depth())


@router.get(f"{BASE_PATH}/settings", tags=["admin"], summary="Settings and masked connection")
def get_settings() -> Response[dict[str, Any]]:
    services = services_of(router)
    stored = services.context().settings.get()
    body = {
        "settings": stored.value.model_dump(mode="json"),
        "version": stored.version,
        "connection": services.amd_admin().connection_info().model_dump(),
    }
    return Response(200, "application/json", body, headers={"ETag": settings_etag(stored.version)})


@router.put(
    f"{BASE_PATH}/settings",
    tags=["admin"],
    summary="Replace every setting (audited; honours If-Match)",
)
def put_settings(body: Annotated[SettingsReplacement, Body()]) -> Response[dict[str, Any]]:
    return _save_settings(body.settings(), "settings_update")


@router.patch(
    f"{BASE_PATH}/settings",
    tags=["admin"],
    summary="Change some settings: an RFC 7396 JSON merge patch (audited; honours If-Match)",
    description='Body: `application/merge-patch+json`, e.g. `{"massChangeGuardRatio": 0.1}`;'
    " `null` resets a setting to its default.",
)
def patch_settings() -> Response[dict[str, Any]]:
    # Read here, not declared as a Body(): Powertools' validation parses application/json only.
    # The gate has already refused any other media type and malformed JSON.
    patch = json.loads(router.current_event.decoded_body or "null")
    if not isinstance(patch, dict):
        raise Problem(422, "VALIDATION_FAILED", "A settings patch is a JSON object.")
    current = services_of(router).context().settings.get().value.model_dump(mode="json")
    return _save_settings(Settings.model_validate(merge_patch(current, patch)), "settings_patch")


def _save_settings(settings: Settings, action: str) -> Response[dict[str, Any]]:
    """Conditional on the version `If-Match` names (else the current one): 412 when another
    change landed first, so a form saved from a stale page never undoes it."""
    ctx = services_of(router).context()
    stored = ctx.settings.get()
    expected = expected_settings_version(router.current_event.headers, stored.version)
    if expected != stored.version:
        raise precondition_failed()
    try:
        version = ctx.settings.save(settings, expected)
    except StaleWriteError:
        raise precondition_failed() from None
    _audit(action, "settings", "settings", {"version": version})
    body = {"settings": settings.model_dump(mode="json"), "version": version}
    return Response(200, "application/json", body, headers={"ETag": settings_etag(version)})


@router.post(
    f"{BASE_PATH}/settings/test-connection",
    tags=["admin"],
    summary="Live login and lookup check, in plain language",
)
def test_connection() -> ConnectionReport:
    report = services_of(router).amd_admin().test_connection()
    _audit("test_connection", "settings", "connection", {"ok": report.ok})
    return report


def _lookup(kind: MappingKind) -> list[LookupItem]:
    services = services_of(router)
    items = services.amd_admin().lookup(kind.value)
    mapped = {m.amd_id: m.ehr_id for m in services.context().mappings.list(kind) if m.confirmed}
    return [i.model_copy(update={"ehr_id": mapped.get(i.amd_id)}) for i in items]


@router.get(f"{BASE_PATH}/providers", tags=["lookups"], summary="AMD providers with mappings")
def get_providers() -> list[LookupItem]:
    return _lookup(MappingKind.PROVIDERS)


@router.get(f"{BASE_PATH}/facilities", tags=["lookups"], summary="AMD facilities with mappings")
def get_facilities() -> list[LookupItem]:
    return _lookup(MappingKind.FACILITIES)


def _kind(kind: str) -> MappingKind:
    try:
        return MappingKind(kind)
    except ValueError:
        raise Problem(404, "UNKNOWN_MAPPING_KIND", "No such mapping kind.") from None


def _suggest(ehr_id: str, items: list[LookupItem]) -> LookupItem | None:
    """By code, or by a unique name match; ambiguous or missing yields none (never a guess)."""
    wanted = ehr_id.strip().upper()
    by_code = [i for i in items if (i.code or "").strip().upper() == wanted]
    if len(by_code) == 1:
        return by_code[0]
    by_name = [i for i in items if wanted and wanted in (i.name or "").upper()]
    return by_name[0] if len(by_name) == 1 else None


@router.get(
    f"{BASE_PATH}/mappings/<kind>",
    tags=["mappings"],
    summary="Current mappings plus suggestions from the AMD lookups",
)
def get_mappings(kind: str) -> dict[str, Any]:
    mapping_kind = _kind(kind)
    services = services_of(router)
    ctx = services.context()
    current = {m.ehr_id: m for m in ctx.mappings.list(mapping_kind)}
    items = services.amd_admin().lookup(mapping_kind.value)
    today = ctx.clock.now().astimezone(ctx.timezone).date()
    # Ids in use by recent and upcoming appointments (a range of the start index, not all).
    window = ctx.appointments.list_between(
        (today - MAPPING_DAYS_BACK).isoformat(), (today + MAPPING_DAYS_AHEAD).isoformat()
    )
    ehr_ids = set(current) | _ehr_ids_in_use(mapping_kind, window)
    suggestions = []
    for ehr_id in sorted(ehr_ids):
        if ehr_id in current and current[ehr_id].confirmed:
            continue
        match = _suggest(ehr_id, items)
        suggestions.append({"ehrId": ehr_id, "suggestion": match.model_dump() if match else None})
    return {
        "kind": mapping_kind.value,
        "mappings": [m.model_dump(mode="json") for m in current.values()],
        "suggestions": suggestions,
        "amdOptions": [i.model_dump() for i in items],
    }


def _ehr_ids_in_use(kind: MappingKind, records: list[Any]) -> set[str]:
    attribute = {
        MappingKind.PROVIDERS: "provider_id",
        MappingKind.FACILITIES: "facility_id",
        MappingKind.APPOINTMENT_TYPES: "appointment_type",
        MappingKind.REASONS: "cancel_reason",
    }[kind]
    return {getattr(r, attribute) for r in records if getattr(r, attribute)}


@router.put(
    f"{BASE_PATH}/mappings/<kind>/<ehrId>",
    tags=["mappings"],
    summary="Confirm or change one mapping (audited)",
)
def put_mapping(kind: str, ehrId: str, body: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
    mapping_kind = _kind(kind)
    mapping = Mapping.model_validate({**body, "kind": mapping_kind.value, "ehrId": ehrId})
    services_of(router).context().mappings.put(mapping)
    _audit("mapping_update", "settings", f"{mapping_kind.value}:{ehrId}", {"amdId": mapping.amd_id})
    return mapping.model_dump(mode="json")


@router.get(f"{BASE_PATH}/conflicts", tags=["conflicts"], summary="Open conflicts, both sides")
def get_conflicts(
    state: Annotated[str | None, Query()] = "open",
    limit: Annotated[int | None, Query()] = None,
    cursor: Annotated[str | None, Query()] = None,
) -> Page:
    if state not in ("open", "resolved", "all"):
        raise Problem(422, "VALIDATION_FAILED", "state must be open, resolved or all.")
    conflicts = services_of(router).context().conflicts
    try:
        items, after = conflicts.page(
            None if state == "all" else state, _position(cursor), check_limit(limit)
        )
    except BadPosition:
        raise bad_cursor() from None
    next_cursor = None if after is None else encode_position(after)
    return Page(items=[c.model_dump(mode="json") for c in items], next_cursor=next_cursor)


@router.post(
    f"{BASE_PATH}/conflicts/<conflictId>/resolve",
    tags=["conflicts"],
    summary="Resolve: keep the EHR's values, AMD's, or merge per field",
)
def post_resolve(
    conflictId: str,
    body: Annotated[ConflictResolution, Body()],
) -> dict[str, Any]:
    caller = caller_of(router)
    ctx = services_of(router).context()
    try:
        resolved = resolve_conflict(ctx, conflictId, body, caller.subject, caller.primary_role)
    except ConflictNotFound:
        raise Problem(404, "CONFLICT_NOT_FOUND", "No open conflict with this id.") from None
    except ValueError as exc:
        raise Problem(422, "VALIDATION_FAILED", str(exc)) from None
    return resolved.model_dump(mode="json")


def _audit(action: str, entity_type: EntityType, entity_id: str, details: dict[str, Any]) -> None:
    caller = caller_of(router)
    ctx = services_of(router).context()
    ctx.audit.append(
        AuditEntry(
            id=new_id(),
            at=ctx.clock.now(),
            subject=caller.subject,
            role=caller.primary_role,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            outcome="success",
            source_ip=caller.source_ip,
            user_agent=caller.user_agent,
            details=details,
        )
    )
