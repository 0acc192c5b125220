"""Routes on single patients and appointments: register, status, sync status, manual sync."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from amdsync.amd.lanes import BACKGROUND, INTERACTIVE
from amdsync.domain.appointments import DesiredAppointment, StatusChange
from amdsync.domain.patients import PatientDemographics
from amdsync.sync.intake import Accepted, Intake
from amdsync.web.context import services_of
from amdsync.web.etags import etag_of, not_modified, require_current
from amdsync.web.paging import page_of
from amdsync.web.problems import Problem
from amdsync.web.routes import BASE_PATH
from amdsync.web.views import (
    Page,
    QueuedAppointmentView,
    QueuedPatientView,
    appointment_view,
    documented,
    patient_view,
    queued_appointment_view,
)

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]
# Clients revalidate every time (a cheap 304); no shared cache keeps a patient's record.
CACHE_CONTROL = "private, no-cache"


def _json(status: int, body: str, headers: dict[str, str] | None = None) -> Response[Any]:
    return Response(status_code=status, content_type="application/json", body=body, headers=headers)


def _accepted(accepted: Accepted[Any], body: str) -> Response[Any]:
    """202 for every accepted write; a stale one says so in a header (SPEC §9.1)."""
    return _json(202, body, {"AmdSync-Stale": "true"} if accepted.stale else None)


def _cached(body: str | None, missing: Problem) -> Response[Any]:
    """A sync status with its ETag from the representation: any change to the record changes
    it (SPEC §6); `missing` when there is no record."""
    if body is None:
        raise missing
    etag = etag_of(body)
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
    if not_modified(router.current_event.headers, etag):
        return Response(status_code=304, headers=headers, body="")
    return _json(200, body, headers)


@router.get(
    f"{BASE_PATH}/patients/<patientId>/sync-status",
    tags=["patients"],
    summary="Patient sync record",
    responses=documented(200, QueuedPatientView, "The patient sync record"),
)
def patient_status(patientId: str) -> Response[Any]:
    missing = Problem(404, "PATIENT_NOT_FOUND", "No patient with this id is registered.")
    return _cached(_patient_status_body(patientId), missing)


def _patient_status_body(patient_id: str) -> str | None:
    stored = services_of(router).context().patients.get(patient_id)
    return None if stored is None else patient_view(stored.value).model_dump_json()


BACKFILL_HEADER = "amdsync-backfill"


def _intake() -> Intake:
    """An EHR registration is interactive, unless the EHR marks it as part of a backfill (its
    initial import: `AmdSync-Backfill: true`), which then queues in the background lane."""
    backfill = router.current_event.headers.get(BACKFILL_HEADER, "").strip().lower() == "true"
    return Intake(services_of(router).context(), BACKGROUND if backfill else INTERACTIVE)


@router.put(
    f"{BASE_PATH}/patients/<patientId>",
    tags=["patients"],
    summary="Register or update a patient's minimum demographics",
    responses=documented(202, QueuedPatientView, "Accepted; queued when changed"),
)
def put_patient(
    patientId: str,
    body: Annotated[PatientDemographics, Body()],
) -> Response[Any]:
    _check_if_match(_patient_status_body, patientId)
    accepted = _intake().register_patient(patientId, body)
    view = patient_view(accepted.record, accepted.queued)
    return _accepted(accepted, view.model_dump_json())


@router.post(
    f"{BASE_PATH}/patients/<patientId>/sync",
    tags=["patients"],
    summary="Queue the patient's sync to AdvancedMD",
    responses=documented(202, QueuedPatientView, "Queued"),
)
def sync_patient(patientId: str) -> Response[Any]:
    _check_if_match(_patient_status_body, patientId)
    accepted = Intake(services_of(router).context()).request_patient_sync(patientId)
    view = patient_view(accepted.record, accepted.queued)
    return _json(202, view.model_dump_json())


@router.get(
    f"{BASE_PATH}/patients/<patientId>/sync-logs",
    tags=["patients"],
    summary="The patient's sync history",
)
def patient_logs(
    patientId: str,
    limit: Annotated[int | None, Query()] = None,
    cursor: Annotated[str | None, Query()] = None,
) -> Page:
    entries = services_of(router).context().logs.for_entity("patient", patientId)
    items, next_cursor = page_of(entries, cursor, limit)
    return Page(items=[e.model_dump(mode="json") for e in items], next_cursor=next_cursor)


@router.get(
    f"{BASE_PATH}/appointments/<appointmentId>/sync-status",
    tags=["appointments"],
    summary="Appointment sync record, with the AdvancedMD link",
    responses=documented(200, QueuedAppointmentView, "The appointment sync record"),
)
def appointment_status(appointmentId: str) -> Response[Any]:
    missing = Problem(404, "APPOINTMENT_NOT_FOUND", "No appointment with this id is registered.")
    return _cached(_appointment_status_body(appointmentId), missing)


def _appointment_status_body(appointment_id: str) -> str | None:
    services = services_of(router)
    stored = services.context().appointments.get(appointment_id)
    if stored is None:
        return None
    record = stored.value
    link = (
        services.amd_admin().appointment_link(record.advanced_md_visit_id)
        if record.advanced_md_visit_id
        else None
    )
    return appointment_view(record, link).model_dump_json()


def _check_if_match(read_body: Callable[[str], str | None], entity_id: str) -> None:
    """SPEC §9.1: `If-Match` must name the ETag a GET of the sync status answers now."""

    def current() -> str | None:
        body = read_body(entity_id)
        return None if body is None else etag_of(body)

    require_current(router.current_event.headers, current)


@router.put(
    f"{BASE_PATH}/appointments/<appointmentId>",
    tags=["appointments"],
    summary="Register or update the desired appointment state",
    responses=documented(202, QueuedAppointmentView, "Accepted; queued when auto-sync is on"),
)
def put_appointment(
    appointmentId: str,
    body: Annotated[DesiredAppointment, Body()],
) -> Response[Any]:
    _check_if_match(_appointment_status_body, appointmentId)
    accepted = _intake().register_appointment(appointmentId, body)
    view = queued_appointment_view(accepted.record, None, accepted.queued)
    return _accepted(accepted, view.model_dump_json())


@router.post(
    f"{BASE_PATH}/appointments/<appointmentId>/status",
    tags=["appointments"],
    summary="Check in, check out, no-show, complete or cancel",
    responses=documented(202, QueuedAppointmentView, "Accepted and queued"),
)
def change_status(
    appointmentId: str,
    body: Annotated[StatusChange, Body()],
) -> Response[Any]:
    _check_if_match(_appointment_status_body, appointmentId)
    accepted = Intake(services_of(router).context()).change_status(appointmentId, body)
    view = queued_appointment_view(accepted.record, None, accepted.queued)
    return _accepted(accepted, view.model_dump_json())


@router.post(
    f"{BASE_PATH}/appointments/<appointmentId>/sync",
    tags=["appointments"],
    summary="Queue a (re)sync; answers with queue position and estimated wait",
    responses=documented(202, QueuedAppointmentView, "Queued"),
)
def sync_appointment(appointmentId: str) -> Response[Any]:
    _check_if_match(_appointment_status_body, appointmentId)
    accepted = Intake(services_of(router).context()).request_appointment_sync(appointmentId)
    view = queued_appointment_view(accepted.record, None, accepted.queued)
    return _json(202, view.model_dump_json())
