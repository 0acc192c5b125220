"""The seed plan's three workflows end to end through the use cases, on moto + the simulator."""

from __future__ import annotations

from datetime import datetime

from tests.integration.sync.conftest import World, work_day
from tests.integration.sync.invariants import assert_sim_clean, calls


def _synced(world: World, appointment_id: str, patient_id: str, start: datetime) -> str:
    world.register(appointment_id, patient_id, start)
    world.drain()
    record = world.record(appointment_id)
    assert record.amd_sync_status == "synced", record
    assert record.advanced_md_visit_id
    return str(record.advanced_md_visit_id)


def test_create_and_sync_registers_the_patient_first(world: World) -> None:
    patient, appt = world.id("P"), world.id("A")
    start = work_day(2, 10)
    world.register_patient(patient)
    accepted = world.register(appt, patient, start)
    assert accepted.applied and accepted.record.amd_sync_status == "pending"

    decisions = world.drain()

    assert {d.kind for d in decisions} == {"done"}
    record = world.record(appt)
    assert record.amd_sync_status == "synced" and record.amd_sync_error_code is None
    booked = world.amd_appointments(date=start.date().isoformat())
    assert len(booked) == 1
    amd = booked[0]
    assert str(amd["id"]) == record.advanced_md_visit_id
    assert amd["firstname"].upper() == "ZEPHYRINE" and amd["lastname"].upper() == "QUILLFEATHER"
    assert str(amd["patientid"]) == record.advanced_md_patient_id
    assert (str(amd["profileid"]), str(amd["columnid"])) == ("102", "202")
    assert amd["appointmenttypeids"] == [11]
    assert str(amd["facilityid"]) == record.advanced_md_facility_id
    assert datetime.fromisoformat(amd["startdatetime"]).replace(tzinfo=None) == start
    assert amd["duration"] == 50 and amd["status"] == 0
    assert amd["referenceid"] == world.ctx.reference_id(appt)
    patient_record = world.ctx.patients.get(patient)
    assert patient_record is not None
    assert patient_record.value.advanced_md_patient_id == record.advanced_md_patient_id
    assert world.ctx.patients.get_demographics(patient) is None  # held only until synced
    report = world.report()
    assert calls(report, "lookuppatient") == 1 and calls(report, "addpatient") == 1
    assert calls(report, "appointments.create") == 1
    assert_sim_clean(report)


def test_status_updates_reach_amd_as_codes_1_3_12_10(world: World) -> None:
    patient = world.id("P")
    world.register_patient(patient)
    visits = {}
    for n, hour in enumerate((9, 11, 13, 15)):
        appt = world.id(f"A{n}")
        visits[appt] = _synced(world, appt, patient, work_day(2, hour))
    a_in, a_out, a_noshow, a_cancel = visits

    world.change_status(a_in, "CHECKED_IN")
    world.change_status(a_out, "CHECKED_IN")
    world.change_status(a_noshow, "NO_SHOW", "NO_SHOW")
    world.change_status(a_cancel, "CANCELLED", "PATIENT_REQUEST")
    world.drain()
    world.change_status(a_out, "CHECKED_OUT")
    world.drain()

    amd = {a: world.sim.admin.appointment(int(v)) for a, v in visits.items()}
    assert [amd[a]["status"] for a in visits] == [1, 3, 12, 10]
    assert amd[a_noshow]["cancelnoshowreason"]["name"] == "NO SHOW"
    assert amd[a_cancel]["cancelnoshowreason"]["name"] == "PATIENT CANCELLED"
    for appt in visits:
        assert world.record(appt).amd_sync_status == "synced"
    assert world.record(a_cancel).status == "CANCELLED"
    assert_sim_clean(world.report())


def test_pull_brings_an_amd_edit_back_with_a_summary(world: World) -> None:
    patient, moved, cancelled = world.id("P"), world.id("A-moved"), world.id("A-cancelled")
    world.register_patient(patient)
    moved_visit = _synced(world, moved, patient, work_day(3, 9))
    cancelled_visit = _synced(world, cancelled, patient, work_day(3, 13))
    first = world.pull()  # bootstrap: sets the watermark, nothing new
    assert first.status == "ok" and first.servertime
    assert (first.updated, first.cancelled, first.conflicts, first.created) == (0, 0, 0, 0)

    new_start = work_day(3, 10, 30)
    world.sim.admin.edit_appointment(int(moved_visit), start=new_start.isoformat())
    world.sim.admin.edit_appointment(int(cancelled_visit), status=10)
    booked = world.sim.admin.create_appointment(
        patientid=int(world.record(moved).advanced_md_patient_id or 0),
        columnid=203,
        start=work_day(4, 11).isoformat(),
        duration=50,
        typeids=[11],
    )
    summary = world.pull()

    assert summary.status == "ok"
    assert (summary.updated, summary.cancelled, summary.created) == (2, 1, 1)
    assert summary.conflicts == 0
    assert world.record(moved).start == new_start.isoformat(timespec="seconds")
    assert world.record(moved).amd_sync_status == "synced"
    assert world.record(cancelled).status == "CANCELLED"
    feed = world.feed()
    by_visit = {(e.advanced_md_visit_id, e.kind): e for e in feed}
    assert by_visit[(moved_visit, "time")].fields["start"] == new_start.isoformat(
        timespec="seconds"
    )
    assert by_visit[(moved_visit, "time")].appointment_id == moved
    assert (cancelled_visit, "cancelled") in by_visit
    assert (str(booked["id"]), "unlinked") in by_visit
    again = world.pull()  # nothing new: no entries, no counts
    assert (again.updated, again.cancelled, again.created) == (0, 0, 0)
    assert len(world.feed()) == len(feed)
    assert_sim_clean(world.report())
