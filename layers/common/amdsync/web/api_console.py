"""What the console needs to give every role a useful first page (SPEC §1, §9.4):

- `GET /me`: who is signed in, the pages their role may use (console_nav) and where they land;
- `GET /schedule`: a practice-local day of registered appointments with their sync state, the
  provider's page (read from our records: no AMD call, so a provider may use it);
- `GET /sync/status`: the queue, its wait and the sync counts, for billing staff (the full
  dashboard with rate budgets and logs stays with administrators).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import Field

from amdsync.sync.reports import Report, StatusCard, dashboard
from amdsync.web.api_admin import queue_now
from amdsync.web.console_nav import landing_for, nav_for
from amdsync.web.context import caller_of, services_of
from amdsync.web.problems import Problem
from amdsync.web.routes import BASE_PATH
from amdsync.web.views import AppointmentStatusView, QueueView, appointment_view

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]


class NavLink(Report):
    page: str = Field(description="The console page, /ui/<page>")
    label: str


class MeView(Report):
    subject: str
    role: str
    landing_page: str | None = Field(description="The page to open after sign-in")
    nav: list[NavLink]
    time_zone: str = Field(description="The practice's time zone; the console shows times in it")


class ScheduleView(Report):
    date: date
    time_zone: str
    provider_ids: list[str] = Field(description="EHR providers with appointments that day")
    items: list[AppointmentStatusView]


class SyncStatusView(Report):
    queue: QueueView
    appointments: StatusCard
    patients: StatusCard
    last_pull: datetime | None = Field(description="When the last pull from AMD succeeded (UTC)")
    open_conflicts: int


@router.get(f"{BASE_PATH}/me", tags=["console"], summary="The caller's role, pages and landing")
def get_me() -> MeView:
    caller = caller_of(router)
    ctx = services_of(router).context()
    return MeView(
        subject=caller.subject,
        role=caller.primary_role,
        landing_page=landing_for(caller.roles),
        nav=[NavLink(page=e.page, label=e.label) for e in nav_for(caller.roles)],
        time_zone=ctx.timezone.key,
    )


def _day(value: str | None, default: date) -> date:
    if value is None:
        return default
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Problem(
            422,
            "VALIDATION_FAILED",
            "Invalid or unknown fields: date (dates are YYYY-MM-DD).",
            errors=[{"field": "date", "problem": "date_parsing", "message": "not a date"}],
        ) from None


@router.get(
    f"{BASE_PATH}/schedule",
    tags=["console"],
    summary="A practice-local day of registered appointments with their sync state",
)
def get_schedule(
    date_: Annotated[str | None, Query(alias="date")] = None,
    providerId: Annotated[str | None, Query()] = None,
) -> ScheduleView:
    ctx = services_of(router).context()
    day = _day(date_, ctx.clock.now().astimezone(ctx.timezone).date())
    prefix = day.isoformat()
    # One day of the start index (a query), never every appointment.
    on_day = ctx.appointments.list_between(prefix, (day + timedelta(days=1)).isoformat())
    chosen = [r for r in on_day if providerId is None or r.provider_id == providerId]
    return ScheduleView(
        date=day,
        time_zone=ctx.timezone.key,
        provider_ids=sorted({r.provider_id for r in on_day}),
        items=[appointment_view(r, None) for r in sorted(chosen, key=lambda r: r.start)],
    )


@router.get(f"{BASE_PATH}/sync/status", tags=["console"], summary="Queue, wait and sync counts")
def get_sync_status() -> SyncStatusView:
    ctx = services_of(router).context()
    board = dashboard(ctx)
    return SyncStatusView(
        queue=queue_now(ctx),
        appointments=board.appointments,
        patients=board.patients,
        last_pull=board.last_pull,
        open_conflicts=board.open_conflicts,
    )
