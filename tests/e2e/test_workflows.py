"""The seed plan's three workflows, every status to AMD, AMD-side changes back, conflicts —
through HTTP on the running stack, checked against what the simulator holds and counts."""

from __future__ import annotations

from typing import Any

import pytest

from local.runner.api_client import wait_for
from tests.e2e.conftest import E2E, PULL_CEILING, SYNC_CEILING, TEST_CEILING, Counters, at

pytestmark = pytest.mark.timeout(TEST_CEILING)


def _visit(e2e: E2E, appointment_id: str) -> dict[str, Any]:
    record = e2e.status(appointment_id)
    assert record["advancedMDVisitId"], record
    return e2e.sim.appointment(record["advancedMDVisitId"])


def test_create_and_sync_registers_the_patient_first_then_books_once(
    e2e: E2E, counters: Counters
) -> None:
    (slot,) = e2e.take_providers()
    (day,) = e2e.take_days(1)
    patient_id = e2e.patient()
    appointment_id = e2e.book(patient_id, slot, at(day, 10), appointmentType="THERAPY_50",
                              durationMinutes=50)  # fmt: skip

    record = e2e.wait_synced(appointment_id)

    patient = e2e.api.get("provider", f"/patients/{patient_id}/sync-status")
    assert patient["amdSyncStatus"] == "synced" and patient["advancedMDPatientId"]
    visit = e2e.sim.appointment(record["advancedMDVisitId"])
    assert str(visit["patientid"]) == patient["advancedMDPatientId"]
    assert str(visit["columnid"]) == slot.column.column_id
    assert str(visit["profileid"]) == slot.profile_id
    assert visit["startdatetime"].startswith(f"{day.isoformat()}T10:00")
    assert visit["duration"] == 50 and visit["status"] == 0
    assert visit["appointmenttypeids"] == [11]  # THERAPY 50
    # Exactly one AMD appointment for that patient, and one AMD patient for the EHR patient.
    assert len(e2e.amd_visits(patientid=patient["advancedMDPatientId"])) == 1
    assert [p for p in e2e.sim.call("GET", "/patients?name=EFAKE") if
            p["name"].startswith(f"EFAKE{int(patient_id.rsplit('-', 1)[1]):05d}")]  # fmt: skip
    counters.assert_clean(logins=None)


def test_status_update_workflow_checks_in_then_out(e2e: E2E, counters: Counters) -> None:
    (slot,) = e2e.take_providers()
    appointment_id = e2e.book(e2e.patient(), slot, at(e2e.take_days(1)[0], 9))
    e2e.wait_synced(appointment_id)

    for status, code in (("CHECKED_IN", 1), ("CHECKED_OUT", 3)):
        e2e.api.post("ehr", f"/appointments/{appointment_id}/status", {"status": status})
        wait_for(lambda code=code: _visit(e2e, appointment_id)["status"] == code, SYNC_CEILING,
                 what=f"AMD status {code}")  # fmt: skip
        record = e2e.wait_synced(appointment_id)
        assert record["status"] == status
    counters.assert_clean()


STATUS_CASES: list[tuple[str, str | None, int, int | None]] = [
    # EHR status, reason, AMD status code after the sync, AMD reason id
    ("CHECKED_IN", None, 1, None),
    ("CHECKED_OUT", None, 3, None),
    ("COMPLETED", None, 3, None),
    ("NO_SHOW", "NO_SHOW", 12, 31),
    ("CANCELLED", "PATIENT_REQUEST", 10, 21),
    ("CONFIRMED", None, 0, None),
]


def test_every_ehr_status_reaches_amd_with_the_right_code(e2e: E2E, counters: Counters) -> None:
    (slot,) = e2e.take_providers()
    (day,) = e2e.take_days(1)
    patient_id = e2e.patient()
    booked = [e2e.book(patient_id, slot, at(day, 9 + n)) for n in range(len(STATUS_CASES))]
    for appointment_id in booked:
        e2e.wait_synced(appointment_id)

    for appointment_id, (status, reason, _, _) in zip(booked, STATUS_CASES, strict=True):
        body: dict[str, Any] = {"status": status}
        if reason:
            body["reason"] = reason
        e2e.api.post("ehr", f"/appointments/{appointment_id}/status", body)
    for appointment_id, (status, _, code, reason_id) in zip(booked, STATUS_CASES, strict=True):
        record = e2e.wait_synced(appointment_id)
        assert record["status"] == status
        visit = _visit(e2e, appointment_id)
        assert visit["status"] == code, (status, visit["status"])
        if reason_id is not None:
            assert str(visit["cancelnoshowreason"]["id"] if isinstance(
                visit["cancelnoshowreason"], dict) else visit["cancelnoshowreason"]) == str(
                reason_id)  # fmt: skip
        if status == "CONFIRMED":
            assert visit["confirmdate"], visit
    assert len(e2e.amd_visits(date=day.isoformat())) == len(STATUS_CASES)
    counters.assert_clean()


def test_pull_updates_brings_amd_changes_back_with_a_summary(e2e: E2E, counters: Counters) -> None:
    (slot,) = e2e.take_providers()
    (day,) = e2e.take_days(1)
    patient_id = e2e.patient()
    arrived, moved = (e2e.book(patient_id, slot, at(day, h)) for h in (9, 11))
    visits = {a: e2e.wait_synced(a)["advancedMDVisitId"] for a in (arrived, moved)}
    e2e.pull()  # settle: only this test's edits below are new

    e2e.sim.edit_appointment(visits[arrived], status=1)  # front desk checks the patient in
    e2e.sim.edit_appointment(visits[moved], start=f"{day.isoformat()}T14:00")
    summary = e2e.pull()

    # The stack is idle and the settling pull took everything older: exactly this test's edits.
    assert summary["status"] == "ok" and summary["updated"] == 2, summary
    assert summary["conflicts"] == 0
    assert e2e.status(arrived)["status"] == "CHECKED_IN"
    assert e2e.status(moved)["start"].startswith(f"{day.isoformat()}T14:00")
    kinds = {c["kind"] for c in e2e.changes_for(arrived)}
    assert "status" in kinds
    assert [c for c in e2e.changes_for(arrived) if c["fields"].get("status") == "CHECKED_IN"]
    assert {c["kind"] for c in e2e.changes_for(moved)} & {"time"}
    counters.assert_clean()


def test_an_amd_side_change_reaches_the_change_feed_through_the_scheduled_pull(
    e2e: E2E, counters: Counters
) -> None:
    (slot,) = e2e.take_providers()
    appointment_id = e2e.book(e2e.patient(), slot, at(e2e.take_days(1)[0], 13))
    visit_id = e2e.wait_synced(appointment_id)["advancedMDVisitId"]
    e2e.sim.edit_appointment(visit_id, status=12)  # AMD marks a no-show; nobody calls pull-updates
    e2e.settings(syncFrequency="realtime")
    try:
        changes = wait_for(
            lambda: [c for c in e2e.changes_for(appointment_id) if c["fields"].get("status")],
            PULL_CEILING,  # a pull waits 60 s after the last one (GETUPDATEDVISITS cap)
            0.5,
            "the scheduled pull to publish the change",
        )
    finally:
        e2e.settings(syncFrequency="manual")
    assert changes[-1]["fields"]["status"] == "NO_SHOW"
    assert changes[-1]["advancedMDVisitId"] == visit_id
    assert e2e.status(appointment_id)["status"] == "NO_SHOW"
    counters.assert_clean()


def test_a_conflict_made_in_both_systems_is_listed_and_resolved(
    e2e: E2E, counters: Counters
) -> None:
    (slot,) = e2e.take_providers()
    (day,) = e2e.take_days(1)
    patient_id = e2e.patient()
    appointment_id = e2e.book(patient_id, slot, at(day, 9))
    visit_id = e2e.wait_synced(appointment_id)["advancedMDVisitId"]
    e2e.pull()

    e2e.settings(autoSyncAppointments=False)
    try:
        e2e.sim.edit_appointment(visit_id, start=f"{day.isoformat()}T15:00")  # AMD: 15:00
        body = e2e.appointment_body(patient_id, slot, at(day, 11), ehrVersion=2)  # EHR: 11:00
        e2e.api.put("ehr", f"/appointments/{appointment_id}", body)
        summary = e2e.pull()
    finally:
        e2e.settings(autoSyncAppointments=True)
    assert summary["conflicts"] == 1, summary  # only this test changed anything since `pull`

    conflicts = [c for c in e2e.api.get("admin", "/conflicts")["items"]
                 if c["appointmentId"] == appointment_id]  # fmt: skip
    assert len(conflicts) == 1
    start = conflicts[0]["fields"]["start"]
    assert start["ehr"].startswith(f"{day.isoformat()}T11:00")
    assert start["amd"].startswith(f"{day.isoformat()}T15:00")
    assert e2e.status(appointment_id)["amdSyncStatus"] == "conflict"

    e2e.api.post("admin", f"/conflicts/{conflicts[0]['conflictId']}/resolve", {"keep": "ehr"})
    e2e.wait_synced(appointment_id)
    wait_for(lambda: e2e.sim.appointment(visit_id)["startdatetime"].startswith(
        f"{day.isoformat()}T11:00"), SYNC_CEILING, what="AMD moved to the EHR's time")  # fmt: skip
    still_open = [c for c in e2e.api.get("admin", "/conflicts")["items"]
                  if c["appointmentId"] == appointment_id]  # fmt: skip
    assert still_open == []
    assert len(e2e.amd_visits(date=day.isoformat())) == 1
    counters.assert_clean()
