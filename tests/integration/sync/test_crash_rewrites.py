"""The worker dies right after an AMD write and before it stored what that write did, and the
EHR changes the same thing before the retry (found by the model-based test,
tests/reliability/test_model_based.py). Neither may cost a duplicate AMD patient, nor may our
own write come back as an AMD-side change (SPEC §9.1)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from amdsync.sync.context import SyncContext
from amdsync.sync.patients import PatientSync
from amdsync.sync.push import AppointmentPush
from tests.integration.sync.conftest import PATIENT_NAME, World, work_day
from tests.integration.sync.invariants import assert_sim_clean, calls

RENAMED = "QUILLWRIGHT"


class WorkerDied(BaseException):
    """The worker process died (not an error a use case may catch and record)."""


class _DiesAfter:
    """A port whose `method` takes effect, then the worker dies before it sees the answer."""

    def __init__(self, inner: Any, method: str) -> None:
        self._inner, self._method = inner, method

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._inner, name)
        if name != self._method:
            return target

        def dies_after(*args: Any, **kwargs: Any) -> Any:
            target(*args, **kwargs)
            raise WorkerDied(name)

        return dies_after


def _dying(world: World, port: str, method: str) -> SyncContext:
    return dataclasses.replace(world.ctx, **{port: _DiesAfter(getattr(world.ctx, port), method)})


def _amd_patients_of(world: World, patient_id: str) -> list[Any]:
    state = world.sim.sim.state
    with state.lock:
        return [p for p in state.patients.values() if p.additionalmrn == patient_id.upper()]


def test_a_patient_renamed_after_a_crash_behind_addpatient_is_not_created_twice(
    world: World,
) -> None:
    patient = world.id("P")
    world.register_patient(patient)
    with pytest.raises(WorkerDied):
        PatientSync(_dying(world, "amd_patients", "add_patient")).run(patient)
    assert len(_amd_patients_of(world, patient)) == 1  # AMD created it; we never stored the id
    assert world.register_patient(patient, last=RENAMED, version=2).applied
    world.registered_names |= {PATIENT_NAME[1]}

    world.drain()

    created = _amd_patients_of(world, patient)
    assert [p.name for p in created] == [f"{RENAMED},{PATIENT_NAME[0]}"]
    stored = world.ctx.patients.get(patient)
    assert stored is not None
    record = stored.value
    assert (record.amd_sync_status, record.ehr_version) == ("synced", 2)
    assert record.advanced_md_patient_id == str(created[0].id)
    report = world.report()
    assert calls(report, "addpatient") == 1
    assert_sim_clean(report)


def test_our_write_before_a_crash_is_not_pulled_back_as_an_amd_change(world: World) -> None:
    patient, appt = world.id("P"), world.id("A")
    start = work_day(3, 9)
    world.register_patient(patient)
    world.register(appt, patient, start)
    world.drain()
    assert world.pull().status == "ok"  # the bootstrap: a watermark from here on
    visit = int(str(world.record(appt).advanced_md_visit_id))
    assert world.register(appt, patient, start, version=2, duration=45).applied
    with pytest.raises(WorkerDied):  # AMD now holds 45; the base still says 50
        AppointmentPush(_dying(world, "scheduler", "edit")).run(appt)
    assert world.sim.admin.appointment(visit)["duration"] == 45
    # Meanwhile the EHR sets the duration back (version 3 asks for what the base holds).
    assert world.register(appt, patient, start, version=3, duration=50).applied

    summary = world.pull()  # the schedule pulls before the dead worker's message comes back

    assert summary.status == "ok"
    assert [e.fields for e in world.feed() if e.appointment_id == appt] == []
    record = world.record(appt)
    assert (record.duration_minutes, record.ehr_version) == (50, 3)
    world.drain()
    assert world.sim.admin.appointment(visit)["duration"] == 50
    record = world.record(appt)
    assert (record.amd_sync_status, record.duration_minutes) == ("synced", 50)
    assert [e.fields for e in world.feed() if e.appointment_id == appt] == []
    assert_sim_clean(world.report())
