"""Admin API (/_sim/) and injected faults."""

import httpx
import pytest

from local.amdsim.handle import AdminError, SimHandle
from tests.amdsim.helpers import Amd, fault_code, ppmd


def test_http500_then_normal(amd: Amd):
    amd.h.admin.faults("http500", count=2, action="lookupprofile")
    assert amd.raw("lookupprofile", name="").status_code == 500
    assert amd.raw("lookuppatient", name="TESTER").status_code == 200  # does not match
    assert amd.raw("lookupprofile", name="").status_code == 500
    assert amd.raw("lookupprofile", name="").status_code == 200
    assert amd.report()["faults_injected"] == {"http500": 2}


def test_timeout_drops_without_committing(amd: Amd):
    amd.h.admin.faults("timeout", path="/scheduler/Appointments", delay_ms=300)
    with pytest.raises(httpx.TransportError):
        amd.http.post(
            amd.rest_base + "/scheduler/Appointments",
            json={"patientid": 1001},
            headers={"Authorization": f"Bearer {amd.token}"},
            timeout=5,
        )
    assert amd.book().status_code == 201


def test_timeout_is_seen_as_client_timeout(amd: Amd):
    amd.h.admin.faults("timeout", action="lookupprofile", delay_ms=800)
    with pytest.raises(httpx.TimeoutException):
        amd.post(amd.message("lookupprofile", name=""), timeout=0.2)


def test_delay_then_normal_reply(amd: Amd):
    amd.h.admin.faults("delay", action="lookupprofile", delay_ms=150)
    resp = amd.raw("lookupprofile", name="")
    assert resp.status_code == 200 and resp.elapsed.total_seconds() >= 0.15


def test_injected_429(amd: Amd):
    amd.h.admin.faults("429", path="/api/")
    resp = amd.rest("GET", "/scheduler/Appointments/5001")
    assert resp.status_code == 429
    assert ppmd(resp)["Error"]["Fault"]["detail"]["code"] == "429"
    assert amd.rest("GET", "/scheduler/Appointments/5001").status_code == 200


def test_injected_expiry_expires_the_token_for_real(amd: Amd):
    amd.h.admin.faults("expired", action="lookupprofile")
    assert fault_code(amd.call("lookupprofile", name="")) == "-2147220479"
    assert fault_code(amd.call("lookuppatient", name="X")) == "-2147220479"
    amd.login()  # allowed at once: no valid token exists
    assert fault_code(amd.call("lookupprofile", name="")) is None
    report = amd.report()
    assert report["logins"] == 2 and report["faults_injected"] == {"expired": 1}


def test_injected_lapse_and_rest_401(amd: Amd):
    amd.h.admin.faults("lapse", action="appointments.get")
    assert amd.rest("GET", "/scheduler/Appointments/5001").status_code == 401
    amd.login()
    amd.h.admin.faults("lapse", action="getdemographic")
    reply = amd.call("getdemographic", patientid="1001")
    assert fault_code(reply) == "-2147219456"


def test_privilege_fault_injected_and_switch(amd: Amd):
    amd.h.admin.faults("privilege", action="getupdatedvisits")
    reply = amd.call("getupdatedvisits", datechanged="2025-03-12T04:00:00.000")
    assert reply["Results"] is None
    fault = reply["Error"]["Fault"]
    assert fault["faultcode"] == "Server" and fault["detail"]["code"] == "-2147218419"
    details = fault["detail"]["extrainfo"]["permissiondetails"]
    assert details["@user"] == "DEMO" and details["@licensekey"] == "999999"
    amd.h.admin.config(privilege_denied_actions=["getdatevisits"])
    assert fault_code(amd.call("getdatevisits", visitdate="3/12/2025")) == "-2147218419"
    assert amd.rest("GET", "/scheduler/Appointments/5001").status_code == 200


def test_malformed_body(amd: Amd):
    amd.h.admin.faults("malformed", action="lookupprofile")
    resp = amd.raw("lookupprofile", name="")
    assert resp.status_code == 200
    with pytest.raises(ValueError):
        resp.json()


def test_commit_then_drop_creates_the_appointment(amd: Amd):
    amd.h.admin.faults("drop", action="appointments.create")
    with pytest.raises(httpx.TransportError):
        amd.book(referenceid="EHR-DROP-1")
    refs = amd.ok("getvisitidbyrefid", visitlist={"visit": {"@referenceid": "EHR-DROP-1"}})
    assert "@id" in refs["visitlist"]["visit"]
    amd.book(startdatetime="2025-04-15T10:00:00", referenceid="EHR-DROP-1")  # blind retry
    report = amd.report()
    assert report["duplicate_appointments"] == 0  # 4186 stopped the retry here
    assert report["faults_injected"] == {"drop": 1}  # counted like every other kind


def test_drop_on_xmlrpc_commits(amd: Amd):
    amd.h.admin.faults("drop", action="addpatient")
    patient = {
        "@name": "DROPPED,ONE",
        "@dob": "01/01/1990",
        "@sex": "U",
        "@chart": "AUTO",
        "@relationship": "1",
        "@hipaarelationship": "18",
        "@profile": "101",
    }
    with pytest.raises(httpx.TransportError):
        amd.raw("addpatient", patientlist={"patient": patient})
    assert amd.h.admin.patients(name="DROPPED")
    assert amd.report()["faults_injected"] == {"drop": 1}


def test_latency(amd: Amd):
    amd.h.admin.latency(120)
    assert amd.raw("lookupprofile", name="").elapsed.total_seconds() >= 0.12
    amd.h.admin.latency(0)


def test_clock_endpoints(amd_sim: SimHandle):
    view = amd_sim.admin.set_clock("2025-07-04T16:00:00Z", frozen=True)
    assert view["frozen"] and view["now"].startswith("2025-07-04T16:00:00")
    assert view["local"].startswith("2025-07-04T10:00:00-06:00")
    assert amd_sim.admin.advance(90)["now"].startswith("2025-07-04T16:01:30")
    assert not amd_sim.admin.follow_real_time()["frozen"]


def test_faults_listing_and_validation(amd_sim: SimHandle):
    amd_sim.admin.faults("http500", count=3, action="x")
    assert amd_sim.admin.call("GET", "faults")["pending"][0]["remaining"] == 3
    assert amd_sim.admin.clear_faults()["pending"] == []
    with pytest.raises(AdminError):
        amd_sim.admin.faults("explode")
    with pytest.raises(AdminError):
        amd_sim.admin.config(no_such_switch=True)
    with pytest.raises(AdminError):
        amd_sim.admin.config(expiry_fault="never")


def test_amd_side_edits_and_inspection(amd: Amd):
    vid = amd.book().json()["id"]
    amd.h.admin.edit_appointment(
        vid, start="2025-04-15T14:00:00", duration=30, status=1, comments="x"
    )
    got = amd.rest("GET", f"/scheduler/Appointments/{vid}").json()
    assert (
        got["startdatetime"] == "2025-04-15T14:00:00" and got["status"] == 1 and got["arrivetime"]
    )
    view = amd.h.admin.appointment(vid)
    assert [e["kind"] for e in view["events"]] == ["create", "change"]
    listed = amd.h.admin.appointments(date="2025-04-15")
    assert [a["id"] for a in listed] == [vid]
    created = amd.h.admin.create_appointment(
        patientid=1002,
        columnid=201,
        start="2025-04-15T14:00:00",
        duration=30,
        typeids=[11],
        force=True,
    )
    assert created["id"] != vid and amd.report()["appointments"] == 302
    with pytest.raises(AdminError):
        amd.h.admin.create_appointment(patientid=1003, columnid=201, start="2025-04-15T14:00:00")


def test_reset_and_seed_are_deterministic(amd_sim: SimHandle):
    first = amd_sim.admin.appointments()
    amd_sim.admin.seed(seed=1, patients=200, appointments=300)
    assert [
        (a["id"], a["startdatetime"], a["patientid"]) for a in amd_sim.admin.appointments()
    ] == [(a["id"], a["startdatetime"], a["patientid"]) for a in first]
    made = amd_sim.admin.seed(seed=7, patients=40, appointments=25)
    assert made == {"seed": 7, "patients": 40, "appointments": 25}
    patients = amd_sim.admin.patients()
    assert len(patients) == 40 and all("," in p["name"] for p in patients)
    assert all(p["contactinfo"]["email"].endswith("@example.invalid") for p in patients)
    assert len({(p["name"], p["dob"]) for p in patients}) == 40


def test_report_shape(amd: Amd):
    report = amd.report()
    for key in (
        "logins",
        "calls",
        "rate_limited",
        "http_429",
        "violations",
        "duplicate_appointments",
        "duplicate_patients",
        "excess_call_cents",
    ):
        assert key in report
    assert report["calls"]["by_action"]["login"] == 2
    assert amd.h.admin.call("GET", "health") == {"ok": True}
    with pytest.raises(AdminError):
        amd.h.admin.call("GET", "nothing")
