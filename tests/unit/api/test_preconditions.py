"""SPEC §9.1: GETs of mutable resources carry an ETag, `If-Match` on writes is honoured (412,
nothing written), and `PUT /settings` replaces the whole object."""

from __future__ import annotations

from typing import Any

from tests.unit.api.samples import APPOINTMENT_BODY, SETTINGS_BODY
from tests.unit.api.support import Api, Reply


def _put_appointment(api: Api, headers: dict[str, str] | None = None, **changes: Any) -> Reply:
    return api.call(
        "PUT",
        "/appointments/{appointmentId}",
        roles=["ehr"],
        path_params={"appointmentId": "A-1"},
        body={**APPOINTMENT_BODY, **changes},
        headers=headers,
    )


def _status_etag(api: Api) -> str:
    reply = api.call(
        "GET",
        "/appointments/{appointmentId}/sync-status",
        roles=["provider"],
        path_params={"appointmentId": "A-1"},
    )
    assert reply.status == 200
    return reply.headers["etag"]


def test_if_match_on_an_appointment_write() -> None:
    api = Api()
    assert _put_appointment(api, ehrVersion=1).status == 202
    etag = _status_etag(api)
    stale = _put_appointment(api, {"If-Match": '"not-it"'}, ehrVersion=2, durationMinutes=25)
    stale.assert_problem(412, "PRECONDITION_FAILED")
    stored = api.world.appointments.get("A-1")
    assert stored is not None and stored.value.ehr_version == 1
    fresh = _put_appointment(api, {"If-Match": etag}, ehrVersion=2, durationMinutes=25)
    assert fresh.status == 202
    assert _put_appointment(api, {"If-Match": "*"}, ehrVersion=3).status == 202


def test_if_match_on_something_that_does_not_exist_is_412() -> None:
    reply = _put_appointment(Api(), {"If-Match": '"anything"'}, ehrVersion=1)
    reply.assert_problem(412, "PRECONDITION_FAILED")


def test_settings_etag_and_if_match() -> None:
    api = Api()
    read = api.call("GET", "/settings", roles=["admin"])
    etag = read.headers["etag"]
    first = api.call(
        "PUT", "/settings", roles=["admin"], body=SETTINGS_BODY, headers={"If-Match": etag}
    )
    assert first.status == 200 and first.headers["etag"] != etag
    again = api.call(
        "PUT",
        "/settings",
        roles=["admin"],
        body={**SETTINGS_BODY, "conflictPolicy": "amd_wins"},
        headers={"If-Match": etag},  # what the page read before the first save
    )
    again.assert_problem(412, "PRECONDITION_FAILED")
    assert api.world.settings.get().value.conflict_policy == SETTINGS_BODY["conflictPolicy"]


def test_put_settings_with_one_field_is_422_and_resets_nothing() -> None:
    api = Api()
    full = {**SETTINGS_BODY, "massChangeGuardRatio": 0.05}
    assert api.call("PUT", "/settings", roles=["admin"], body=full).status == 200
    reply = api.call("PUT", "/settings", roles=["admin"], body={"conflictPolicy": "ehr_wins"})
    problem = reply.assert_problem(422, "VALIDATION_FAILED")
    assert "massChangeGuardRatio" in problem["detail"]
    assert api.world.settings.get().value.mass_change_guard_ratio == 0.05


def _patch(api: Api, body: Any, headers: dict[str, str] | None = None) -> Reply:
    return api.call("PATCH", "/settings", roles=["admin"], body=body, headers=headers)


def test_patch_settings_changes_only_what_it_names_and_is_audited() -> None:
    api = Api()
    full = {**SETTINGS_BODY, "massChangeGuardRatio": 0.05, "syncFrequency": "daily"}
    assert api.call("PUT", "/settings", roles=["admin"], body=full).status == 200
    reply = _patch(api, {"conflictPolicy": "amd_wins"})
    assert reply.status == 200, reply.text
    settings = api.world.settings.get().value
    assert (
        settings.conflict_policy,
        settings.mass_change_guard_ratio,
        settings.sync_frequency,
    ) == (
        "amd_wins",
        0.05,
        "daily",
    )
    assert _patch(api, {"massChangeGuardRatio": None}).status == 200  # null: back to default
    assert api.world.settings.get().value.mass_change_guard_ratio == 0.2
    actions = [e.action for e in api.world.audit.entries]
    assert actions.count("settings_patch") == 2


def test_patch_settings_validates_and_honours_if_match() -> None:
    api = Api()
    _patch(api, {"conflictPolicy": "nobody_wins"}).assert_problem(422, "VALIDATION_FAILED")
    _patch(api, {"unknownSetting": 1}).assert_problem(422, "VALIDATION_FAILED")
    _patch(api, ["not", "an", "object"]).assert_problem(422, "VALIDATION_FAILED")
    stale = _patch(api, {"conflictPolicy": "ehr_wins"}, {"If-Match": '"settings-v99"'})
    stale.assert_problem(412, "PRECONDITION_FAILED")
    assert api.world.settings.get().value.conflict_policy == "manual"


def test_patch_settings_takes_merge_patch_json_only() -> None:
    api = Api()
    reply = api.call(
        "PATCH",
        "/settings",
        roles=["admin"],
        body={"conflictPolicy": "ehr_wins"},
        headers={"content-type": "application/json"},
    )
    reply.assert_problem(415, "UNSUPPORTED_MEDIA_TYPE")
