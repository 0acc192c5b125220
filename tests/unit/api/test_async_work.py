"""SPEC §9.3 through the API: bulk sync and the pull button answer 202 at once and run in the
background; their GETs show state, progress and (for a pull) the summary when done."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from amdsync.sync.pull import PullRun
from amdsync.sync.worker import JobProcessor
from tests.unit.api.samples import APPOINTMENT_BODY, PATIENT_BODY
from tests.unit.api.support import Api
from tests.unit.sync.helpers import drain

SUMMARY_KEYS = {"updated", "created", "cancelled", "conflicts", "charges"}


def _pull(api: Api, pull_id: str) -> dict[str, Any]:
    reply = api.call(
        "GET",
        "/appointments/pull-updates/{pullId}",
        roles=["billing"],
        path_params={"pullId": pull_id},
    )
    assert reply.status == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


def _start_pull(api: Api) -> str:
    calls = api.world.amd.calls_made()
    reply = api.call("POST", "/appointments/pull-updates", roles=["billing"])
    assert reply.status == 202, reply.text
    body = reply.json()
    assert body["state"] == "queued" and body["pullId"]
    assert api.world.amd.calls_made() == calls  # nothing pulled while answering
    pull_id: str = body["pullId"]
    return pull_id


def test_pull_button_answers_202_and_the_get_shows_the_summary_when_done() -> None:
    api = Api()
    pull_id = _start_pull(api)
    assert _pull(api, pull_id)["state"] == "queued"
    assert _pull(api, pull_id)["summary"] is None
    drain(api.world)
    body = _pull(api, pull_id)
    assert body["state"] == "done" and body["finishedAt"]
    assert set(body["summary"]) >= SUMMARY_KEYS and body["summary"]["status"] == "ok"
    assert api.world.watermark.get().value is not None  # the pull really ran


def test_pull_too_soon_for_amds_feed_waits_its_turn_instead_of_failing() -> None:
    api = Api()
    assert PullRun(api.world.ctx).run().status == "ok"  # the first pull: a watermark now
    api.world.amd.feed_wait_seconds = 41.3
    calls = api.world.amd.calls_made()
    pull_id = _start_pull(api)
    message = api.world.queue.take()
    assert message is not None and message.kind == "pull"
    decision = JobProcessor(api.world.ctx).process(message)
    assert decision.kind == "defer" and decision.delay >= 41.3
    assert api.world.amd.calls_made() == calls  # AMD's feed was not asked early
    assert _pull(api, pull_id)["state"] == "running"
    api.world.amd.feed_wait_seconds = 0.0
    assert JobProcessor(api.world.ctx).process(message).kind == "done"
    assert _pull(api, pull_id)["state"] == "done"


def test_pull_while_another_pull_runs_is_deferred_then_done() -> None:
    api = Api()
    now = api.world.clock.now()
    assert api.world.leases.acquire("pull", "someone-else", now, now + timedelta(minutes=2))
    pull_id = _start_pull(api)
    message = api.world.queue.take()
    assert message is not None
    assert JobProcessor(api.world.ctx).process(message).kind == "defer"
    api.world.leases.release("pull", "someone-else")
    assert JobProcessor(api.world.ctx).process(message).kind == "done"
    assert _pull(api, pull_id)["summary"]["status"] == "ok"


def test_unknown_pull_is_404() -> None:
    reply = Api().call(
        "GET",
        "/appointments/pull-updates/{pullId}",
        roles=["billing"],
        path_params={"pullId": "nope"},
    )
    reply.assert_problem(404, "PULL_NOT_FOUND")


def _bulk(api: Api, job_id: str, action: str = "") -> dict[str, Any]:
    method, path = (
        ("POST", "/appointments/bulk-sync/{jobId}/cancel")
        if action
        else (
            "GET",
            "/appointments/bulk-sync/{jobId}",
        )
    )
    reply = api.call(method, path, roles=["billing"], path_params={"jobId": job_id})
    assert reply.status == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


def _registered(api: Api, count: int) -> None:
    api.call("PUT", "/patients/{patientId}", roles=["ehr"], path_params={"patientId": "P-100"},
             body=PATIENT_BODY)  # fmt: skip
    for i in range(count):
        body = {**APPOINTMENT_BODY, "start": f"2026-12-0{1 + i % 5}T{9 + i // 5:02d}:00:00"}
        reply = api.call(
            "PUT",
            "/appointments/{appointmentId}",
            roles=["ehr"],
            path_params={"appointmentId": f"A-{i}"},
            body=body,
        )
        assert reply.status == 202, reply.text
    drain(api.world)


def test_bulk_sync_answers_202_planning_and_walks_its_states() -> None:
    api = Api()
    _registered(api, 7)
    reply = api.call(
        "POST",
        "/appointments/bulk-sync",
        roles=["billing"],
        body={"from": "2026-01-01", "to": "2027-01-02"},  # from + 366 days
    )
    assert reply.status == 202, reply.text
    started = reply.json()
    assert (started["state"], started["total"], started["planned"]) == ("planning", None, 0)
    assert _bulk(api, started["jobId"])["state"] == "planning"
    drain(api.world)
    done = _bulk(api, started["jobId"])
    assert (done["state"], done["total"], done["done"], done["percent"]) == ("done", 7, 7, 100)
    assert _bulk(api, started["jobId"], "cancel")["state"] == "done"


def test_bulk_sync_over_366_days_is_422() -> None:
    reply = Api().call(
        "POST",
        "/appointments/bulk-sync",
        roles=["billing"],
        body={"from": "2026-01-01", "to": "2027-01-03"},  # 367 days on
    )
    reply.assert_problem(422, "VALIDATION_FAILED")


def test_bulk_cancel_while_planning() -> None:
    api = Api()
    _registered(api, 3)
    reply = api.call(
        "POST", "/appointments/bulk-sync", roles=["billing"],
        body={"from": "2026-12-01", "to": "2026-12-31"},
    )  # fmt: skip
    job_id = reply.json()["jobId"]
    assert _bulk(api, job_id, "cancel")["state"] == "cancelled"
    drain(api.world)
    after = _bulk(api, job_id)
    assert (after["state"], after["done"]) == ("cancelled", 0)
