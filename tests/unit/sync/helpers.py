"""Builders and drivers shared by the sync use-case tests (real use cases, fake ports)."""

from __future__ import annotations

from typing import Any

from amdsync.domain.appointments import DesiredAppointment, StatusChange
from amdsync.domain.patients import PatientDemographics
from amdsync.jobs import SyncJob
from amdsync.sync.intake import Accepted, Intake
from amdsync.sync.push import AppointmentPush, PushResult
from amdsync.sync.worker import JobDecision, JobProcessor
from tests.fakes import PRACTICE, World

APPT = "A-200"
PATIENT = "P-100"


def desired(version: int = 1, **overrides: Any) -> DesiredAppointment:
    values: dict[str, Any] = {
        "patientId": PATIENT,
        "providerId": "DR-7",
        "facilityId": "MAIN",
        "appointmentType": "THERAPY_50",
        "start": "2026-12-01T10:00:00",
        "timeZone": "America/Denver",
        "durationMinutes": 50,
        "status": "SCHEDULED",
        "ehrVersion": version,
        **overrides,
    }
    return DesiredAppointment.model_validate(values)


def demographics(version: int = 1, **overrides: Any) -> PatientDemographics:
    values: dict[str, Any] = {
        "firstName": "Ada",
        "lastName": "Sample",
        "dateOfBirth": "1980-04-02",
        "sex": "F",
        "phone": "5555550100",
        "address": {"line1": "1 Main St", "city": "Salt Lake City", "state": "UT", "zip": "84101"},
        "ehrVersion": version,
        **overrides,
    }
    return PatientDemographics.model_validate(values)


def register_patient(world: World, patient_id: str = PATIENT, **overrides: Any) -> Accepted:
    return Intake(world.ctx).register_patient(patient_id, demographics(**overrides))


def register(
    world: World, appointment_id: str = APPT, version: int = 1, **overrides: Any
) -> Accepted:
    return Intake(world.ctx).register_appointment(appointment_id, desired(version, **overrides))


def change_status(
    world: World, status: str, reason: str | None = None, appointment_id: str = APPT
) -> Accepted:
    change = StatusChange.model_validate({"status": status, "reason": reason})
    return Intake(world.ctx).change_status(appointment_id, change)


def push(world: World, appointment_id: str = APPT) -> PushResult:
    return AppointmentPush(world.ctx).run(appointment_id)


def job(entity_id: str = APPT, version: int = 1, **extra: Any) -> SyncJob:
    return SyncJob.model_validate(
        {"kind": "appointment", "entityId": entity_id, "version": version, "practice": PRACTICE}
        | extra
    )


def synced(world: World, appointment_id: str = APPT, **overrides: Any) -> str:
    """Register patient + appointment and push once; returns the AMD visit id."""
    if world.patients.get(PATIENT) is None:
        register_patient(world)
    register(world, appointment_id, **overrides)
    result = push(world, appointment_id)
    assert result.visit_id is not None, result
    world.queue.clear()
    return result.visit_id


def drain(world: World, max_rounds: int = 10_000) -> list[JobDecision]:
    """Run the worker over the queue until it is empty; retried/deferred jobs go back."""
    processor = JobProcessor(world.ctx)
    decisions: list[JobDecision] = []
    for _ in range(max_rounds):
        sync_job = world.queue.take()
        if sync_job is None:
            return decisions
        decision = processor.process(sync_job)
        decisions.append(decision)
        if decision.kind in ("retry", "defer"):
            world.queue.put_back(sync_job)
    raise AssertionError("queue did not drain")
