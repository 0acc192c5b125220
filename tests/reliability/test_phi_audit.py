"""PHI/secret audit on the running local stack (SPEC §2.5).

Patients carry distinctive names and dates of birth on both sides (registered by the EHR
through the API; edited in AMD through the simulator's person-edit admin API). The whole stack
runs (HTTP front, function processes, SQS pollers) and does its work: patient and appointment
syncs, status changes, a cancel, an AMD-side change, a pull, requests that fail validation.

Then every log line the function processes wrote (their stdout/stderr go to a file: they
inherit this process's descriptors), every EMF metric line among them, every sync log entry,
every audit entry, every problem body and every change-feed entry is searched for those values
and for the AMD password and session tokens; the office key must not appear in log messages.
Any hit fails.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.stack_bench import (
    RunningStack,
    appointment_body,
    prepare,
    running_stack,
    simulator,
    wait_synced,
)
from local.amdsim import admin_edits
from local.runner.resources import LOCAL_AMD_CREDENTIALS
from tests.reliability.world import Slots, work_days

FIRST, LAST, DOB = "QUIXOTELLA", "VANTREMBLAY", "1937-11-23"
AMD_NAME, AMD_DOB = "ZARQUONIA,PHILBERTA", "1941-06-17"


def _needles(running: RunningStack) -> dict[str, str]:
    needles = {
        "first name": FIRST,
        "last name": LAST,
        "dob": DOB,
        "dob (us)": "11/23/1937",
        "dob (compact)": "19371123",
        "amd name": "ZARQUONIA",
        "amd first name": "PHILBERTA",
        "amd dob": AMD_DOB,
        "amd dob (us)": "06/17/1941",
        "password": f'"{LOCAL_AMD_CREDENTIALS["password"]}"',
    }
    for index, token in enumerate(running.sim.sim.state.tokens):
        needles[f"token {index}"] = token
        needles[f"token {index} (tail)"] = token[-24:]
    return needles


def _scan(text: str, needles: dict[str, str], where: str) -> list[str]:
    folded = text.casefold()
    return [f"{where}: {name}" for name, value in needles.items() if value.casefold() in folded]


def _table_items(running: RunningStack, logical_id: str) -> list[dict[str, Any]]:
    assert running.stack.moto is not None and running.stack.resources is not None
    client = running.stack.moto.client("dynamodb")
    name = running.stack.resources.tables[logical_id]
    items: list[dict[str, Any]] = []
    for page in client.get_paginator("scan").paginate(TableName=name):
        items += page["Items"]
    return items


def _exercise(running: RunningStack, client: httpx.Client) -> list[str]:
    """Drive the stack; returns the problem bodies it answered."""
    base = running.base
    ehr = {"Authorization": f"Bearer {running.tokens['ehr']}"}
    billing = {"Authorization": f"Bearer {running.tokens['billing']}"}
    problems: list[str] = []
    patient = {
        "firstName": FIRST,
        "lastName": LAST,
        "dateOfBirth": DOB,
        "sex": "F",
        "phone": "5555550199",
        "address": {"line1": "9 Quill Row", "city": "Ogden", "state": "UT", "zip": "84401"},
        "ehrVersion": 1,
    }
    assert client.put(f"{base}/patients/P-PHI", json=patient, headers=ehr).status_code in (200, 202)
    # Validation failures must not echo the values they reject.
    for bad in ({**patient, "dateOfBirth": "1937-13-23"}, {**patient, "sex": FIRST}):
        reply = client.put(f"{base}/patients/P-BAD", json=bad, headers=ehr)
        assert reply.status_code in (400, 422), reply.text
        problems.append(reply.text)
    today = running.sim.sim.clock.now().date()
    slots = Slots(work_days(today + timedelta(days=1), 5))
    ids = []
    for i in range(3):
        provider, start = slots.take()
        appointment_id = f"PHI-{i}"
        reply = client.put(
            f"{base}/appointments/{appointment_id}",
            json=appointment_body("P-PHI", provider, start, 1),
            headers=ehr,
        )
        assert reply.status_code == 202, reply.text
        ids.append(appointment_id)
    for appointment_id in ids:
        assert wait_synced(client, running, appointment_id)["amdSyncStatus"] == "synced"
    reply = client.post(
        f"{base}/appointments/{ids[0]}/status", json={"status": "CHECKED_IN"}, headers=ehr
    )
    assert reply.status_code in (200, 202), reply.text
    reply = client.post(
        f"{base}/appointments/{ids[1]}/status",
        json={"status": "CANCELLED", "reason": "PATIENT_REQUEST"},
        headers=ehr,
    )
    assert reply.status_code in (200, 202), reply.text
    reply = client.post(f"{base}/appointments/{ids[2]}/status", json={"status": "X"}, headers=ehr)
    problems.append(reply.text)
    problems.append(client.get(f"{base}/appointments/NOPE/sync-status", headers=billing).text)
    # AMD side: a front desk renames the patient and checks the third appointment in.
    state = running.sim.sim.state
    with state.lock:
        status = client.get(f"{base}/appointments/{ids[2]}/sync-status", headers=billing).json()
        visit = state.visits[int(status["advancedMDVisitId"])]
        admin_edits.edit_patient(
            running.sim.sim, state.patients[visit.patient_id], {"name": AMD_NAME, "dob": AMD_DOB}
        )
    running.sim.admin.edit_appointment(visit.id, status=1)
    for appointment_id, status in ((ids[0], "CHECKED_IN"), (ids[1], "CANCELLED")):
        _wait_status_synced(
            client, f"{base}/appointments/{appointment_id}/sync-status", status, billing
        )
    # Human actions, for the audit trail: a manual sync and a bulk sync by billing staff.
    reply = client.post(f"{base}/appointments/{ids[0]}/sync", headers=billing)
    assert reply.status_code == 202, reply.text
    days = {"from": today.isoformat(), "to": (today + timedelta(days=7)).isoformat()}
    reply = client.post(f"{base}/appointments/bulk-sync", json=days, headers=billing)
    assert reply.status_code == 202, reply.text
    reply = client.post(f"{base}/appointments/pull-updates", headers=billing)
    assert reply.status_code == 202, reply.text
    _wait_pulled(client, f"{base}/appointments/pull-updates/{reply.json()['pullId']}", billing)
    return problems


def _wait_status_synced(
    client: httpx.Client, url: str, status: str, headers: dict[str, str]
) -> None:
    """The status change's sync job has run: AMD has the new status."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        record = client.get(url, headers=headers).json()
        if record.get("status") == status and record.get("amdSyncStatus") == "synced":
            return
        time.sleep(0.1)
    raise AssertionError(f"the status change never synced: {url}")


def _wait_pulled(client: httpx.Client, url: str, headers: dict[str, str]) -> None:
    """The pull runs on the worker (SPEC §9.3): its answer is only the pull's id."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        state = client.get(url, headers=headers).json().get("state")
        if state in ("done", "failed"):
            assert state == "done", url
            return
        time.sleep(0.2)
    raise AssertionError(f"the pull never finished: {url}")


@pytest.mark.timeout(240)
def test_no_phi_or_secret_anywhere(tmp_path: Path) -> None:
    log_path = tmp_path / "functions.log"
    with simulator() as sim, running_stack(sim, log_path=log_path) as running:
        prepare(running)
        with httpx.Client(timeout=30) as client:
            problems = _exercise(running, client)
            feed = client.get(
                f"{running.base}/changes?limit=100",
                headers={"Authorization": f"Bearer {running.tokens['ehr']}"},
            )
            assert feed.status_code == 200, feed.text
        time.sleep(1.0)  # let the function processes flush
        needles = _needles(running)
        logs = _table_items(running, "LogsTable")
        audit = _table_items(running, "AuditTable")
    lines = log_path.read_text(errors="replace").splitlines()
    hits: list[str] = []
    emf = 0
    for number, line in enumerate(lines, 1):
        hits += _scan(line, needles, f"log line {number}")
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and "_aws" in record:
            emf += 1
        message = str(record.get("message", "")) + str(record.get("exception", ""))
        if isinstance(record, dict) and LOCAL_AMD_CREDENTIALS["officeKey"] in message:
            hits.append(f"log line {number}: office key in a log message")
    for index, item in enumerate(logs):
        hits += _scan(json.dumps(item), needles, f"sync log entry {index}")
    for index, item in enumerate(audit):
        hits += _scan(json.dumps(item), needles, f"audit entry {index}")
    for index, body in enumerate(problems):
        hits += _scan(body, needles, f"problem body {index}")
        if LOCAL_AMD_CREDENTIALS["officeKey"] in body:
            hits.append(f"problem body {index}: office key")
    hits += _scan(feed.text, needles, "change feed")
    # The audit must have had something to look at, or it proves nothing.
    assert len(lines) > 10 and emf > 0 and logs and audit and len(problems) >= 4, (
        len(lines), emf, len(logs), len(audit), len(problems),
    )  # fmt: skip
    assert feed.json()["items"], "the AMD-side change should be in the feed"
    assert hits == [], "\n".join(hits[:30])
