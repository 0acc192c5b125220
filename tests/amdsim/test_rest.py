"""Scheduler REST: booking, conflicts, list/read, edit, move and the state machine."""

import pytest

from tests.amdsim.helpers import BOOKING, Amd


def conflict_code(resp) -> int:
    assert resp.status_code == 409, resp.text
    return resp.json()["conflicts"][0]["code"]


def test_book_returns_201_location_and_body(amd: Amd):
    resp = amd.book(referenceid="EHR-APPT-1", comments="first visit")
    assert resp.status_code == 201
    body = resp.json()
    assert resp.headers["location"] == f"{amd.rest_base}/scheduler/Appointments/{body['id']}"
    assert body["status"] == 0 and body["duration"] == 50
    assert body["startdatetime"] == "2025-04-15T10:00:00"
    assert body["appointmenttypeids"] == [11] and body["comments"] == "FIRST VISIT"
    assert body["lastname"] == "TESTER" and body["firstname"] == "ALPHA"
    got = amd.rest("GET", f"/scheduler/Appointments/{body['id']}")
    assert got.status_code == 200 and got.json()["id"] == body["id"]
    refs = amd.ok("getvisitidbyrefid", visitlist={"visit": [{"@referenceid": "EHR-APPT-1"}]})
    assert refs["visitlist"]["visit"]["@id"] == str(body["id"])


@pytest.mark.parametrize(
    "override",
    [
        {"patientid": None},
        {"columnid": "201"},
        {"startdatetime": "2025-04-15T10:00:00Z"},
        {"startdatetime": "2025-04-15T10:00:00-06:00"},
        {"startdatetime": "04/15/2025 10:00"},
        {"duration": 0},
        {"type": []},
        {"type": [{"id": 999}]},
        {"patientid": 99999},
        {"columnid": 999},
        {"clientdatetime": "2025-03-12T05:00:00.000Z"},
    ],
)
def test_booking_validation_400(amd: Amd, override):
    body = {k: v for k, v in override.items() if v is not None}
    resp = amd.rest(
        "POST",
        "/scheduler/Appointments",
        {**_booking(), **body} if None not in override.values() else _without(override),
    )
    assert resp.status_code == 400, resp.text
    assert resp.json()["title"] == "Bad Request"
    assert amd.report()["violations"]["count"] == 1


def _booking():
    return dict(BOOKING)


def _without(override):
    body = _booking()
    for key in override:
        body.pop(key)
    return body


def test_booking_conflicts(amd: Amd):
    assert amd.book().status_code == 201
    assert conflict_code(amd.book(startdatetime="2025-04-15T10:30:00")) == 4101
    assert conflict_code(amd.book(startdatetime="2025-04-15T10:00")) == 4186
    assert conflict_code(amd.book(startdatetime="2025-04-15T06:00:00")) == 4155
    assert conflict_code(amd.book(startdatetime="2025-04-13T10:00:00")) == 4155  # Sunday
    assert conflict_code(amd.book(startdatetime="2025-04-15T18:30:00")) == 4117
    body = amd.book(startdatetime="2025-04-15T10:30:00", force=True)
    assert conflict_code(body) == 4101  # POST ignores force by default (UNCERTAIN -> strict)
    amd.h.admin.config(rest_post_honours_force=True)
    assert amd.book(startdatetime="2025-04-15T10:30:00", force=True).status_code == 201
    assert amd.report()["violations"]["count"] == 0


def test_group_column_allows_same_start_until_full(amd: Amd):
    group = {"columnid": 210, "profileid": 110, "startdatetime": "2025-04-15T09:00:00"}
    for patient in (1001, 1002, 1003, 1004):
        assert amd.book(patientid=patient, **group).status_code == 201
    assert conflict_code(amd.book(patientid=1005, **group)) == 4186
    assert (
        amd.book(patientid=1001, **{**group, "startdatetime": "2025-04-15T10:00:00"}).status_code
        == 201
    )
    report = amd.report()
    assert report["duplicate_appointments"] == 0
    assert (
        amd.book(patientid=1001, **{**group, "startdatetime": "2025-04-15T11:00:00"}).status_code
        == 201
    )
    amd.book(patientid=1001, **{**group, "startdatetime": "2025-04-15T11:00:00"})
    assert amd.report()["duplicate_appointments"] == 1


def test_list_views(amd: Amd):
    ids = [amd.book(startdatetime=f"2025-04-15T{h:02d}:00:00").json()["id"] for h in (9, 11, 13)]
    assert amd.rest("GET", "/scheduler/Appointments", forView="day").status_code == 400
    day = amd.rest(
        "GET", "/scheduler/Appointments", forView="day", columnId="201-202", startDate="2025-04-15"
    ).json()
    assert [a["id"] for a in day] == ids
    amd.rest("PUT", f"/scheduler/Appointments/{ids[0]}/cancel", {"id": ids[0]})
    amd.rest("DELETE", f"/scheduler/Appointments/{ids[1]}")
    day = amd.rest(
        "GET", "/scheduler/Appointments", forView="day", columnId="201", startDate="2025-04-15"
    ).json()
    assert [(a["id"], a["status"]) for a in day] == [(ids[0], 10), (ids[2], 0)]
    deleted = amd.rest("GET", f"/scheduler/Appointments/{ids[1]}").json()
    assert deleted["status"] == 11
    week = amd.rest(
        "GET", "/scheduler/Appointments", forView="week", columnId="201", startDate="2025-04-14"
    ).json()
    assert {a["id"] for a in week} >= {ids[0], ids[2]}
    patient = amd.rest("GET", "/scheduler/Appointments", forView="patient", patientId="1001").json()
    assert {ids[0], ids[2]} <= {a["id"] for a in patient}
    provider = amd.rest(
        "GET",
        "/scheduler/Appointments",
        forView="provider",
        providerId="101",
        startDate="2025-04-15",
    ).json()
    assert isinstance(provider, dict) and len(provider["appointments"]) == 2
    byid = amd.rest("GET", "/scheduler/Appointments", forView="apptbyid", appointmentId=ids[1])
    assert byid.json()[0]["status"] == 11
    current = amd.rest("GET", "/scheduler/Appointments/current").json()
    assert all(a["startdatetime"].startswith("2025-03-12") for a in current)
    assert amd.rest("GET", "/scheduler/Appointments/424242").status_code == 404


def test_state_machine(amd: Amd):
    appt = amd.book().json()["id"]
    path = f"/scheduler/Appointments/{appt}"
    checkin = amd.rest(
        "PUT", path + "/checkin", {"id": appt, "clientdatetime": "2025-04-15T09:58:00"}
    )
    assert checkin.json()["status"] == 1 and checkin.json()["arrivetime"] == "2025-04-15T09:58:00"
    assert amd.rest("PUT", path + "/uncheckin", {"id": appt}).json()["status"] == 0
    amd.rest("PUT", path + "/checkin", {"id": appt})
    out = amd.rest("PUT", path + "/checkout", {"id": appt})
    assert out.json()["status"] == 3 and out.json()["seentime"]
    assert conflict_code(amd.rest("PUT", path + "/checkout", {"id": appt})) == 4110
    assert amd.rest("PUT", path + "/uncheckout", {"id": appt}).json()["status"] == 1
    assert amd.rest("PUT", path + "/cancel", {"id": appt}).json()["status"] == 10
    assert amd.rest("PUT", path + "/checkin", {"id": appt}).status_code == 400
    assert conflict_code(amd.rest("PUT", path + "/checkout", {"id": appt})) == 4110
    assert amd.report()["violations"]["count"] == 0


def test_cancel_noshow_and_reasons(amd: Amd):
    first = amd.book().json()["id"]
    second = amd.book(startdatetime="2025-04-15T12:00:00").json()["id"]
    path = f"/scheduler/Appointments/{first}/cancel"
    assert amd.rest("PUT", path, {}).status_code == 400  # id is required
    assert amd.rest("PUT", path, {"id": second}).status_code == 400  # must match the path
    assert amd.rest("PUT", path, {"id": first, "noshowreasonid": "77"}).status_code == 500
    done = amd.rest("PUT", path, {"id": first, "noshowreasonid": "21"}).json()
    assert done["status"] == 10 and done["cancelnoshowreason"]["id"] == 21
    assert (
        amd.rest("PUT", "/scheduler/Appointments/999999/cancel", {"id": 999999}).status_code == 404
    )
    noshow = amd.rest(
        "PUT", f"/scheduler/Appointments/{second}/noshow", {"id": second, "noshowreasonid": 31}
    )
    assert noshow.json()["status"] == 12
    back = amd.rest("PUT", f"/scheduler/Appointments/{first}/uncancel", {"id": first})
    assert back.json()["status"] == 0
    assert amd.rest("DELETE", f"/scheduler/Appointments/{first}").json()["status"] == 11
    reasons = amd.violations()
    assert len(reasons) == 3 and any("reason id" in r for r in reasons)


def test_edit_and_move(amd: Amd):
    appt = amd.book().json()["id"]
    other = amd.book(startdatetime="2025-04-15T13:00:00").json()["id"]
    edit = amd.rest(
        "PUT", f"/scheduler/Appointments/{appt}", {"id": appt, "duration": 30, "color": "red"}
    )
    assert (
        edit.status_code == 200 and edit.json()["duration"] == 30 and edit.json()["color"] == "RED"
    )
    clash = amd.rest(
        "PUT", f"/scheduler/Appointments/{appt}", {"startdatetime": "2025-04-15T12:45:00"}
    )
    assert conflict_code(clash) == 4101
    moved = amd.rest(
        "PUT",
        f"/scheduler/Appointments/{appt}/move",
        {"id": appt, "columnid": 202, "startdatetime": "2025-04-16T09:00:00"},
    )
    body = moved.json()
    assert body["id"] == appt and body["columnid"] == 202 and body["profileid"] == 102
    assert (
        conflict_code(
            amd.rest(
                "PUT",
                f"/scheduler/Appointments/{other}/move",
                {"id": other, "columnid": 202, "startdatetime": "2025-04-16T09:00:00"},
            )
        )
        == 4186
    )
    amd.h.admin.config(move_creates_new_id=True)
    again = amd.rest(
        "PUT",
        f"/scheduler/Appointments/{appt}/move",
        {"id": appt, "columnid": 202, "startdatetime": "2025-04-16T10:00:00"},
    ).json()
    assert again["id"] != appt and again["status"] == 0
    assert amd.rest("GET", f"/scheduler/Appointments/{appt}").json()["status"] == 5


def test_referenceid_switch(amd: Amd):
    amd.h.admin.config(rest_honours_referenceid=False)
    amd.book(referenceid="EHR-X")
    refs = amd.ok("getvisitidbyrefid", visitlist={"visit": {"@referenceid": "EHR-X"}})
    assert "@id" not in refs["visitlist"]["visit"]


def test_wrong_host_segment_is_404_and_violation(amd: Amd):
    url = amd.rest_base.replace(amd.h.api_host, "api-000") + "/scheduler/Appointments/5001"
    resp = amd.http.get(url, headers={"Authorization": f"Bearer {amd.token}"})
    assert resp.status_code == 404
    assert any("host segment" in v for v in amd.violations())


def test_columns_and_pages(amd: Amd):
    cols = amd.rest("GET", "/scheduler/Columns", pageId="1").json()
    assert cols and all(c["id"] % 2 == 1 for c in cols)
    assert amd.rest("GET", "/scheduler/Columns/201").json()["maxapptsperslot"] == 1
    assert len(amd.rest("GET", "/scheduler/Pages").json()) == 2
