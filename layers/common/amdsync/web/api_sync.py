"""Bulk sync, pulling now, the change feed, and AMD-side reads (appointments, visits)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from amdsync.domain.bulk import BulkJob, BulkSyncRequest
from amdsync.sync.bulk import BulkSync
from amdsync.sync.manual_pull import ManualPulls
from amdsync.web.context import caller_of, services_of
from amdsync.web.paging import check_limit
from amdsync.web.problems import Problem
from amdsync.web.routes import BASE_PATH
from amdsync.web.views import (
    BulkJobView,
    ChangesPage,
    ChangeView,
    PullStartedView,
    PullSummaryView,
    PullView,
    documented,
)

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]
MAX_RANGE_DAYS = 31


def _bulk_view(bulk: BulkSync, job: BulkJob) -> BulkJobView:
    data = job.model_dump(mode="json", exclude={"plan_page", "plan_cursor", "wanted"})
    return BulkJobView.model_validate(
        {**data, "percent": job.percent, "estimatedWaitSeconds": bulk.eta_seconds(job)}
    )


@router.post(
    f"{BASE_PATH}/appointments/bulk-sync",
    tags=["bulk"],
    summary=(
        "Sync every appointment in a date range (at most 366 days): answers 202 at once in "
        "state planning; appointments are found and queued in batches of at most 50 in the "
        "background"
    ),
    responses=documented(202, BulkJobView, "The bulk job, planning"),
)
def start_bulk(body: Annotated[BulkSyncRequest, Body()]) -> Response[str]:
    bulk = BulkSync(services_of(router).context())
    caller = caller_of(router)
    job = bulk.start(body, actor=caller.subject, role=caller.primary_role)
    return Response(202, "application/json", _bulk_view(bulk, job).model_dump_json())


@router.get(
    f"{BASE_PATH}/appointments/bulk-sync/<jobId>",
    tags=["bulk"],
    summary="Bulk job: state planning|running|done|cancelled, totals once planned, progress, ETA",
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
    summary="Cancel a bulk job in any state (planning stops, queued work is skipped)",
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
        "Pull changes from AdvancedMD: answers 202 {pullId} at once; the pull runs in the "
        "background (waiting its turn if AMD's change feed was read less than a minute ago)"
    ),
    responses=documented(202, PullStartedView, "The pull, queued"),
)
def pull_now() -> Response[str]:
    pull = ManualPulls(services_of(router).context()).request(actor=caller_of(router).subject)
    view = PullStartedView(pull_id=pull.pull_id, state=pull.state)
    return Response(202, "application/json", view.model_dump_json())


@router.get(
    f"{BASE_PATH}/appointments/pull-updates/<pullId>",
    tags=["bulk"],
    summary=(
        "A pull's state (queued|running|done|failed) and, when done, its summary "
        "{updated, created, cancelled, conflicts, charges}"
    ),
)
def pull_status(pullId: str) -> PullView:
    pull = ManualPulls(services_of(router).context()).get(pullId)
    if pull is None:
        raise Problem(404, "PULL_NOT_FOUND", "No pull with this id.")
    summary = None
    if pull.summary is not None:
        summary = PullSummaryView.model_validate({**pull.summary, "status": pull.status or "ok"})
    return PullView(
        pull_id=pull.pull_id,
        state=pull.state,
        requested_at=pull.requested_at,
        finished_at=pull.finished_at,
        summary=summary,
        error_code=pull.error_code,
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
