"""`PUT /patients/{patientId}` and the `ehrVersion` contract (SPEC §9.1): a reused version with
other content is a 409 VERSION_REUSED, a replay changes nothing, an older version is answered
with `AmdSync-Stale: true` and changes nothing."""

from __future__ import annotations

from typing import Any

from tests.unit.api.samples import PATIENT_BODY
from tests.unit.api.support import Api, Reply

PARAMS = {"patientId": "P-100"}


def _put(api: Api, body: dict[str, Any]) -> Reply:
    return api.call("PUT", "/patients/{patientId}", roles=["ehr"], path_params=PARAMS, body=body)


def test_the_same_version_with_other_content_is_409_version_reused() -> None:
    api = Api()
    assert _put(api, PATIENT_BODY).status == 202
    stored = api.world.patients.items["P-100"]

    reply = _put(api, {**PATIENT_BODY, "phone": "8015550199"})

    reply.assert_problem(409, "VERSION_REUSED")
    assert "8015550199" not in reply.text
    assert api.world.patients.items["P-100"] == stored
    held = api.world.patients.get_demographics("P-100")
    assert held is not None and held.phone == PATIENT_BODY["phone"]


def test_a_replay_of_the_same_version_changes_nothing() -> None:
    api = Api()
    _put(api, PATIENT_BODY)
    stored, jobs = api.world.patients.items["P-100"], len(api.world.queue.sent)

    reply = _put(api, PATIENT_BODY)

    assert reply.status in (200, 202) and "amdsync-stale" not in reply.headers
    assert api.world.patients.items["P-100"] == stored
    assert len(api.world.queue.sent) == jobs


def test_an_older_version_is_answered_stale_and_changes_nothing() -> None:
    api = Api()
    _put(api, PATIENT_BODY)
    stored = api.world.patients.items["P-100"]

    reply = _put(api, {**PATIENT_BODY, "ehrVersion": 2, "phone": "8015550199"})

    assert reply.status in (200, 202)
    assert reply.headers.get("amdsync-stale") == "true"
    assert reply.json()["ehrVersion"] == PATIENT_BODY["ehrVersion"]
    assert api.world.patients.items["P-100"] == stored
