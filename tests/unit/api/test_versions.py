"""SPEC §9.1 over HTTP: a reused `ehrVersion` is 409 VERSION_REUSED, an older one is answered
with `AmdSync-Stale: true` and changes nothing, a repeat is a quiet 202."""

from __future__ import annotations

from typing import Any

from tests.unit.api.samples import APPOINTMENT_BODY
from tests.unit.api.support import Api, Reply


def _put(api: Api, **changes: Any) -> Reply:
    return api.call(
        "PUT",
        "/appointments/{appointmentId}",
        roles=["ehr"],
        path_params={"appointmentId": "A-200"},
        body={**APPOINTMENT_BODY, **changes},
    )


def test_a_reused_version_with_new_content_is_409_and_nothing_is_written() -> None:
    api = Api()
    assert _put(api, ehrVersion=4).status == 202
    problem = _put(api, ehrVersion=4, durationMinutes=25).assert_problem(409, "VERSION_REUSED")
    assert "25" not in str(problem)
    stored = api.world.appointments.get("A-200")
    assert (
        stored is not None and stored.value.duration_minutes == APPOINTMENT_BODY["durationMinutes"]
    )
    assert len(api.world.queue.sent) == 1


def test_an_older_version_is_flagged_stale_and_a_repeat_is_not() -> None:
    api = Api()
    assert _put(api, ehrVersion=4).status == 202
    older = _put(api, ehrVersion=3, durationMinutes=25)
    assert older.status == 202 and older.headers.get("amdsync-stale") == "true"
    repeat = _put(api, ehrVersion=4)
    assert repeat.status == 202 and "amdsync-stale" not in repeat.headers
    stored = api.world.appointments.get("A-200")
    assert stored is not None and stored.value.ehr_version == 4
