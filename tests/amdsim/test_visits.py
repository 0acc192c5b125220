"""getdatevisits, getAppts, scheduler confirm, addvisit, charges, getvisitidbyrefid,
getpatientvisits (PROTOCOL §3.8-§3.13)."""

from tests.amdsim.helpers import Amd, as_list, fault_code

TEMPLATE = {
    "@start": "VisitStartDateTime",
    "@duration": "Duration",
    "@status": "ApptStatus",
    "@column": "ColumnHeading",
    "@profile": "ProfileCode",
    "@type": "AppointmentType",
    "@patientid": "PatientID",
    "@modified": "ModifiedAt",
    "@color": "Color",
}


def test_getdatevisits_one_date_with_templates(amd: Amd):
    appt = amd.book().json()["id"]
    res = amd.ok("getdatevisits", visitdate="4/15/2025", visit=TEMPLATE, patient={"@name": "Name"})
    assert "@success" not in res
    assert res["@servertime"].startswith("2025-03-12T05:") and len(res["@servertime"]) == 23
    visits = as_list(res["visitlist"]["visit"])
    assert res["@visitcount"] == str(len(visits)) == "1"
    visit = visits[0]
    assert visit["@id"] == str(appt) and visit["@start"] == "2025-04-15T10:00:00"
    assert visit["@status"] == "0" and visit["@duration"] == "50"
    assert visit["@column"] == "ALPHA ROOM" and visit["@profile"] == "PALPH "
    assert visit["@type"] == "THERAPY 50" and visit["@color"] == "BLUE".ljust(13)
    assert visit["patient"] == {"@id": "1001", "@name": "TESTER,ALPHA"}
    empty = amd.ok("getdatevisits", visitdate="04/16/2025", visit=TEMPLATE)
    assert empty["@visitcount"] == "0" and empty["visitlist"] is None


def test_getdatevisits_rejects_ranges_and_unknown_fields(amd: Amd):
    assert fault_code(amd.call("getdatevisits", visitdate="4/15/2025 - 4/16/2025")) == "-2147219455"
    assert fault_code(amd.call("getdatevisits")) == "-2147219456"
    bad = amd.call("getdatevisits", visitdate="4/15/2025", visit={"@x": "NoSuchField"})
    assert fault_code(bad) == "-2147219455"
    assert amd.report()["violations"]["count"] == 3


def test_getappts_and_confirm(amd: Amd):
    appt = amd.book().json()["id"]
    day = amd.ok("getAppts", "scheduler", date="4/15/2025", columns="201", view="day")
    row = day["ppmd:apptlist"]["ppmd:appt"]
    assert row["@id"] == f"appt{appt}" and row["@time"] == "10:00" and row["@column"] == "col201"
    assert day["ppmd:apptlist"]["@xmlns:ppmd"] == "www.perfectpractice.md"
    confirm = amd.ok(
        "update",
        "scheduler",
        view="checkin",
        mode="confirm",
        **{
            "ppmd:appt": {
                "@xmlns:ppmd": "www.perfectpractice.md",
                "@id": str(appt),
                "@confmeth": "cm11",
            }
        },
    )
    assert confirm["ppmd:apptlist"]["ppmd:appt"]["@confmeth"] == "cm11"
    rest = amd.rest("GET", f"/scheduler/Appointments/{appt}").json()
    assert rest["confirmdate"] is not None
    bad = amd.call(
        "update", "scheduler", mode="confirm", **{"ppmd:appt": {"@id": "1", "@confmeth": "cm1"}}
    )
    assert fault_code(bad) == "-2147217374"


def test_addvisit_is_not_an_appointment(amd: Amd):
    res = amd.ok(
        "addvisit",
        "chargeentry",
        appt={"@patient": "1001", "@profile": "101", "@date": "", "@refplan": ""},
    )
    visit = res["visit"]
    assert visit["@isappt"] == "0" and visit["@id"].startswith("vst")
    assert visit["@date"] == "03/12/2025" and visit["chargelist"] is None
    assert "notelist" in res
    vid = int(visit["@id"][3:])
    assert amd.rest("GET", f"/scheduler/Appointments/{vid}").status_code == 404
    day = amd.ok("getdatevisits", visitdate="3/12/2025", visit=TEMPLATE)
    assert str(vid) not in [v["@id"] for v in as_list((day["visitlist"] or {}).get("visit"))]
    current = amd.rest("GET", "/scheduler/Appointments/current").json()
    assert vid not in [a["id"] for a in current]


def test_updvisitwithnewcharges(amd: Amd):
    appt = amd.book().json()["id"]
    charge = {"@proccode": "90834", "@fee": "150.00", "@units": "1", "@diagcodes": "F41.1"}
    visit = {
        "@id": str(appt),
        "@force": "0",
        "@referenceid": "EHR-CHG-1",
        "chargelist": {"charge": charge},
    }
    res = amd.ok("updvisitwithnewcharges", "chargeentry", patientid="1001", visit=visit)
    assert res["@success"] == "1"
    assert amd.h.admin.appointment(appt)["chargesposted"] is True
    again = amd.call("updvisitwithnewcharges", "chargeentry", patientid="1001", visit=visit)
    assert fault_code(again) == "-2147219453"
    missing = amd.call(
        "updvisitwithnewcharges",
        "chargeentry",
        visit={"@id": "424242", "chargelist": {"charge": charge}},
    )
    assert fault_code(missing) == "-2147217374"


def test_getvisitidbyrefid(amd: Amd):
    first = amd.book(referenceid="EHR-APPT-0001").json()["id"]
    res = amd.ok(
        "getvisitidbyrefid",
        visitlist={"visit": [{"@referenceid": "ehr-appt-0001"}, {"@referenceid": "EHR-APPT-0002"}]},
    )
    rows = res["visitlist"]["visit"]
    assert rows[0] == {"@referenceid": "ehr-appt-0001", "@id": str(first)}
    assert rows[1] == {"@referenceid": "EHR-APPT-0002"}
    empty = amd.call("getvisitidbyrefid", visitlist={"visit": {"@referenceid": ""}})
    assert fault_code(empty) == "-2147219454"


def test_getpatientvisits(amd: Amd):
    appt = amd.book(patientid=1002).json()["id"]
    res = amd.ok("getpatientvisits", patientid="1002", visit={"@status": "ApptStatus"})
    assert str(appt) in [v["@id"] for v in as_list(res["visitlist"]["visit"])]
    assert all(int(v["@status"]) < 10 for v in as_list(res["visitlist"]["visit"]))
