"""SPEC §9.4 end to end: a persistent AMD 500 spends the worker's retry budget, the job is
listed as failed work (no PHI), and once AMD is healthy a billing user's retry syncs it, once."""

from __future__ import annotations

from typing import Any

from local.runner.api_client import wait_for
from tests.e2e.conftest import E2E, POLL_SECONDS, SYNC_CEILING, Counters, at

# The worker's whole retry budget (6 tries, backoff from 1 s: tests/e2e/conftest.py).
DEAD_LETTER_CEILING = 300.0


def _failed_entry(e2e: E2E, appointment_id: str) -> dict[str, Any] | None:
    items = e2e.api.get("billing", "/sync/failed?limit=200")["items"]
    return next((i for i in items if i["entityId"] == appointment_id), None)


def _synced(e2e: E2E, appointment_id: str) -> dict[str, Any] | None:
    record = e2e.status(appointment_id)
    return record if record["amdSyncStatus"] == "synced" else None


def test_a_job_dead_lettered_by_amd_500s_is_listed_retried_and_ends_synced(
    e2e: E2E, counters: Counters
) -> None:
    (slot,) = e2e.take_providers()
    (day,) = e2e.take_days(1)
    patient_id = e2e.patient()
    e2e.sim.fault("http500", count=1_000_000, action="appointments.create")
    try:
        appointment_id = e2e.book(patient_id, slot, at(day, 10))
        failed: dict[str, Any] = wait_for(
            lambda: _failed_entry(e2e, appointment_id),
            DEAD_LETTER_CEILING,
            POLL_SECONDS,
            what=f"{appointment_id} listed as failed work",
        )
    finally:
        e2e.sim.clear_faults()

    assert failed["entityType"] == "appointment"
    assert failed["errorCode"] == "AMD_UNAVAILABLE"
    assert failed["attempts"] == 6
    record = e2e.status(appointment_id)
    assert (record["amdSyncStatus"], record["amdSyncErrorCode"]) == ("error", "AMD_UNAVAILABLE")
    assert record["advancedMDVisitId"] is None

    retried = e2e.api.post("billing", f"/sync/failed/{failed['jobId']}/retry")

    assert retried["lane"] == "interactive"
    synced = wait_for(
        lambda: _synced(e2e, appointment_id), SYNC_CEILING, POLL_SECONDS, what="synced"
    )
    assert _failed_entry(e2e, appointment_id) is None
    patient = e2e.api.get("billing", f"/patients/{patient_id}/sync-status")
    visits = e2e.amd_visits(patientid=patient["advancedMDPatientId"])
    assert len(visits) == 1 and str(visits[0]["referenceid"]).endswith(appointment_id)
    assert synced["advancedMDVisitId"]
    audit = e2e.api.get("admin", f"/audit?entityType=appointment&entityId={appointment_id}")
    assert [(a["action"], a["actor"]["role"]) for a in audit["items"]] == [
        ("failed_work_retry", "billing")
    ]
    counters.assert_clean(logins=None)
