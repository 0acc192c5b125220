"""Bulk sync, pulling now, the change feed, and AMD-side reads (appointments, visits)."""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from amdsync.amd.errors import RateLimited
from amdsync.amd.tiers import Budget
from amdsync.domain.bulk import BulkJob, BulkSyncRequest
from amdsync.sync.bulk import BulkSync
from amdsync.sync.pull import PullRun
from amdsync.web.context import caller_of, services_of
from amdsync.web.paging import check_limit
from amdsync.web.problems import Problem
from amdsync.web.routes import BASE_PATH
from amdsync.web.views import (
    BulkJobView,
    ChangesPage,
    ChangeView,
    PullSummaryView,
    documented,
)

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]
MAX_RANGE_DAYS = 31


def _bulk_view(bulk: BulkSync, job: BulkJob) -> BulkJobView:
    return BulkJobView.model_validate(
        {
            **job.model_dump(mode="json"),
            "percent": job.percent,
            "estimatedWaitSeconds": bulk.eta_seconds(job),
        }
    )


@router.post(
    f"{BASE_PATH}/appointments/bulk-sync",
    tags=["bulk"],
    summary="Sync every appointment in a date range, in batches of at most 50",
    responses=documented(202, BulkJobView, "The bulk job, started"),
)
def start_bulk(body: Annotated[BulkSyncRequest, Body()]) -> Response[str]:
    bulk = BulkSync(services_of(router).context())
    caller = caller_of(router)
    job = bulk.start(body, actor=caller.subject, role=caller.primary_role)
    return Response(202, "application/json", _bulk_view(bulk, job).model_dump_json())


@router.get(
    f"{BASE_PATH}/appointments/bulk-sync/<jobId>",
    tags=["bulk"],
    summary="Bulk job progress: total, done, failed, ETA",
)
def bulk_progress(jobId: str) -> BulkJobView:
    bulk = BulkSync(services_of(router).context())
    job = bulk.progress(jobId)
    if job is None:
        raise Problem(404, "BULK_JOB_NOT_FOUND", "No bulk job with this id.")
    return _bulk_view(bulk, job)


@router.post(
    f"{BASE_PATH}/appointments/bulk-sync/<jobId>/cancel",
    tags=["bulk"],
    summary="Cancel a running bulk job (queued work is skipped)",
)
def bulk_cancel(jobId: str) -> BulkJobView:
    bulk = BulkSync(services_of(router).context())
    caller = caller_of(router)
    job = bulk.cancel(jobId, actor=caller.subject, role=caller.primary_role)
    if job is None:
        raise Problem(404, "BULK_JOB_NOT_FOUND", "No bulk job with this id.")
    return _bulk_view(bulk, job)


@router.post(
    f"{BASE_PATH}/appointments/pull-updates",
    tags=["bulk"],
    summary=(
        "Pull changes from AdvancedMD now; 429 FEED_TOO_SOON with Retry-After if AMD's change "
        "feed was read less than a minute ago (by anyone)"
    ),
)
def pull_now() -> PullSummaryView:
    try:
        summary = PullRun(services_of(router).context()).run(actor=caller_of(router).subject)
    except RateLimited as exc:
        if exc.budget != Budget.FEED.value:
            raise
        raise _feed_too_soon(exc.retry_after) from None  # another caller read it just now
    if summary.status == "too_soon":
        raise _feed_too_soon(summary.retry_after or 0.0)
    if summary.status == "busy":
        raise Problem(
            409, "PULL_IN_PROGRESS", "A pull is already running; try again shortly.", retry_after=60
        )
    return PullSummaryView(
        status=summary.status,
        updated=summary.updated,
        created=summary.created,
        cancelled=summary.cancelled,
        conflicts=summary.conflicts,
        charges=summary.charges,
        unlinked=summary.unlinked,
    )


def _feed_too_soon(seconds: float) -> Problem:
    """AMD's change feed is read at most once per 60 s + margin per office key, whoever asks
    (SPEC §9.3): say when instead of sending."""
    wait = max(1, math.ceil(seconds))
    return Problem(
        429,
        "FEED_TOO_SOON",
        "AdvancedMD's change feed may be read once a minute and was read moments ago; "
        f"the next pull is allowed in {wait} s.",
        retry_after=wait,
    )


@router.get(
    f"{BASE_PATH}/changes",
    tags=["ehr"],
    summary="Ordered feed of changes that came from AdvancedMD",
)
def changes(
    cursor: Annotated[str | None, Query()] = None,
    limit: Annotated[int | None, Query()] = None,
) -> ChangesPage:
    after = 0
    if cursor:
        if not cursor.isdigit():
            raise Problem(400, "BAD_CURSOR", "The cursor is not one this API issued.")
        after = int(cursor)
    items = services_of(router).context().feed.read(after, check_limit(limit))
    views = [
        ChangeView.model_validate({**i.model_dump(mode="json"), "cursor": i.cursor}) for i in items
    ]
    next_cursor = views[-1].cursor if views else str(after)
    return ChangesPage(items=views, next_cursor=next_cursor)


def _date_range(start: date, end: date) -> list[date]:
    if end < start:
        raise Problem(422, "VALIDATION_FAILED", "'to' must not be before 'from'.")
    if (end - start).days >= MAX_RANGE_DAYS:
        raise Problem(422, "VALIDATION_FAILED", f"At most {MAX_RANGE_DAYS} days per request.")
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


@router.get(
    f"{BASE_PATH}/appointments",
    tags=["appointments"],
    summary="Appointments in AdvancedMD for a range, joined with sync records",
)
def list_amd_appointments(
    from_: Annotated[date, Query(alias="from")],
    to: Annotated[date, Query()],
    providerId: Annotated[str | None, Query()] = None,
) -> dict[str, object]:
    ctx = services_of(router).context()
    items = []
    for day in _date_range(from_, to):
        for visit in ctx.scheduler.visits_on(day).visits:
            owner = ctx.appointments.owner_of_visit(visit.visit_id)
            stored = ctx.appointments.get(owner) if owner else None
            record = stored.value if stored else None
            if providerId and (record is None or record.provider_id != providerId):
                continue
            items.append(
                {
                    "advancedMDVisitId": visit.visit_id,
                    "start": visit.start,
                    "durationMinutes": visit.duration_minutes,
                    "amdStatus": visit.status_code,
                    "advancedMDProviderId": visit.profile_id,
                    "advancedMDPatientId": visit.patient_id,
                    "appointmentId": owner,
                    "amdSyncStatus": record.amd_sync_status if record else None,
                }
            )
    return {"items": items}


@router.get(
    f"{BASE_PATH}/visits/<visitId>",
    tags=["appointments"],
    summary="One AdvancedMD appointment/visit",
)
def get_visit(visitId: str) -> dict[str, object]:
    if not visitId.isdigit():
        raise Problem(404, "VISIT_NOT_FOUND", "No AdvancedMD visit with this id.")
    ctx = services_of(router).context()
    visit = ctx.scheduler.get_appointment(visitId)
    if visit is None:
        raise Problem(404, "VISIT_NOT_FOUND", "No AdvancedMD visit with this id.")
    return {
        "advancedMDVisitId": visit.visit_id,
        "start": visit.start,
        "durationMinutes": visit.duration_minutes,
        "amdStatus": visit.status_code,
        "advancedMDProviderId": visit.profile_id,
        "advancedMDFacilityId": visit.facility_id,
        "advancedMDPatientId": visit.patient_id,
        "columnId": visit.column_id,
        "appointmentTypeId": visit.type_id,
        "confirmed": visit.confirmed,
        "appointmentId": ctx.appointments.owner_of_visit(visit.visit_id),
    }
