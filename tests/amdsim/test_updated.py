"""getupdatedvisits: window, flags, overflow, chunks; getvisitsbyid; getupdatedpatients."""

from tests.amdsim.helpers import Amd, as_list, fault_code

TEMPLATE = {"@start": "VisitStartDateTime", "@status": "ApptStatus", "@type": "AppointmentType"}


def watermark(amd: Amd) -> str:
    return amd.ok("getdatevisits", visitdate="1/1/2025")["@servertime"]


def pull(amd: Amd, since: str, **extra) -> dict:
    amd.h.admin.advance(61)  # 1 call per minute
    return amd.call(
        "getupdatedvisits", datechanged=since, visit=TEMPLATE, patient={"@name": "Name"}, **extra
    )


def flags(reply: dict) -> dict[str, str]:
    visits = as_list((reply["Results"]["visitlist"] or {}).get("visit"))
    return {v["@id"]: v["@updatestatus"] for v in visits}


def test_flags_new_changed_deleted(amd: Amd):
    existing = [5001, 5002, 5003, 5004]
    for vid in existing:
        amd.h.admin.edit_appointment(vid, status=0)  # make them editable on the schedule
    since = watermark(amd)
    new = amd.book().json()["id"]
    gone = amd.book(startdatetime="2025-04-15T12:00:00").json()["id"]
    amd.rest("DELETE", f"/scheduler/Appointments/{gone}")
    amd.rest("PUT", f"/scheduler/Appointments/{existing[0]}/checkin", {"id": existing[0]})
    amd.rest("DELETE", f"/scheduler/Appointments/{existing[1]}")
    amd.h.admin.post_charges(existing[2])
    amd.h.admin.edit_appointment(existing[3], start="2025-03-20T08:00:00")
    reply = pull(amd, since)
    assert fault_code(reply) is None
    got = flags(reply)
    assert got == {
        str(new): "N",
        str(existing[0]): "C",
        str(existing[1]): "D",
        str(existing[2]): "D",
        str(existing[3]): "C",
    }
    res = reply["Results"]
    assert res["@visitcount"] == "5" and res["@servertime"] > since
    row = next(v for v in res["visitlist"]["visit"] if v["@id"] == str(new))
    assert list(row)[:2] == ["@id", "@updatestatus"]
    assert row["patientlist"]["patient"]["@name"] == "TESTER,ALPHA"
    again = pull(amd, res["@servertime"])
    assert again["Results"]["@visitcount"] == "0" and again["Results"]["visitlist"] is None


def test_patient_only_edits_do_not_count_but_show_in_getupdatedpatients(amd: Amd):
    since = watermark(amd)
    amd.h.admin.edit_patient(1001, address2="5 ELSEWHERE")
    assert flags(pull(amd, since)) == {}
    amd.h.admin.advance(61)
    pats = amd.ok(
        "getupdatedpatients", datechanged=since, patient={"@name": "Name", "@changed": "ChangedAt"}
    )
    row = pats["patientlist"]["patient"]
    assert row["@id"] == "1001" and row["@updatestatus"] == "C" and row["@name"] == "TESTER,ALPHA"


def test_untyped_visits_skipped_unless_ignoreappttypes(amd: Amd):
    since = watermark(amd)
    vid = amd.book().json()["id"]
    amd.h.admin.edit_appointment(vid, typeids=[])
    amd.ok("addvisit", "chargeentry", appt={"@patient": "1001", "@profile": "101", "@date": ""})
    assert flags(pull(amd, since)) == {}
    assert len(flags(pull(amd, since, ignoreappttypes="1"))) == 2


def test_window_is_bounded_by_msgtime(amd: Amd):
    since = watermark(amd)
    amd.h.admin.advance(61)
    body = amd.message("getupdatedvisits", datechanged=since, visit=TEMPLATE)
    amd.h.admin.advance(120)
    amd.book()  # after the msgtime the client stamped
    reply = amd.post(body).json()["PPMDResults"]
    assert flags(reply) == {}
    assert amd.report()["window_gap_warnings"] == 1


def test_datechanged_must_look_like_servertime(amd: Amd):
    for bad in (
        "3/12/2025 5:00:00 AM",
        "2025-03-12",
        "2025-03-12T05:00:00Z",
        "2025-03-12T05:00:00",
    ):
        amd.h.admin.advance(61)
        reply = amd.call("getupdatedvisits", datechanged=bad, visit=TEMPLATE)
        assert fault_code(reply) == "-2147219455", bad
    amd.h.admin.advance(61)
    assert fault_code(amd.call("getupdatedvisits", visit=TEMPLATE)) == "-2147219456"
    assert amd.report()["violations"]["count"] == 5
    amd.h.admin.config(datechanged_strict_format=False)
    assert fault_code(pull(amd, "3/12/2025 5:00:00 AM")) is None
    amd.h.admin.config(datechanged_strict_format=True, datechanged_must_be_issued=True)
    assert fault_code(pull(amd, "2025-03-12T04:00:00.000")) == "-2147219455"
    assert fault_code(pull(amd, watermark(amd))) is None


def test_over_1000_returns_ids_only_and_fault_then_chunks(amd: Amd):
    amd.h.admin.seed(appointments=1100)
    amd.h.admin.advance(1)
    since = "2025-03-12T04:00:00.000"
    reply = pull(amd, since, ignoreappttypes="1")
    assert fault_code(reply) == "-2147217350"
    ids = [v["@id"] for v in reply["Results"]["visitlist"]["visit"]]
    assert len(ids) == 1100
    assert reply["Results"]["visitlist"]["visit"][0] == {"@id": ids[0]}
    assert "@servertime" not in reply["Results"]
    too_big = pull(amd, since, visitlist={"visit": [{"@id": i} for i in ids[:501]]})
    assert fault_code(too_big) == "400"
    assert any("exceeds 500" in v for v in amd.violations())
    seen: set[str] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        part = pull(
            amd, since, ignoreappttypes="1", visitlist={"visit": [{"@id": i} for i in chunk]}
        )
        assert fault_code(part) is None and part["Results"]["@servertime"]
        rows = part["Results"]["visitlist"]["visit"]
        assert all(r["@updatestatus"] == "N" and "@start" in r for r in rows)
        seen.update(r["@id"] for r in rows)
    assert seen == set(ids)


def test_overflow_servertime_switch(amd: Amd):
    amd.h.admin.config(overflow_threshold=10, overflow_includes_servertime=True)
    reply = pull(amd, "2025-03-12T04:00:00.000", ignoreappttypes="1")
    assert fault_code(reply) == "-2147217350"
    assert reply["Results"]["@servertime"] and reply["Results"]["@visitcount"] == "300"


def test_getvisitsbyid(amd: Amd):
    res = amd.ok(
        "getvisitsbyid", visitlist={"visit": [{"@id": "5001"}, {"@id": "5002"}]}, visit=TEMPLATE
    )
    rows = res["visitlist"]["visit"]
    assert [r["@id"] for r in rows] == ["5001", "5002"]
    assert rows[0]["@istelemedicine"] in {"0", "1"} and res["@servertime"]
    empty = amd.call("getvisitsbyid", visitlist=None, visit=TEMPLATE)
    assert fault_code(empty) == "400"
    assert empty["Error"]["Fault"]["detail"]["extrainfo"]


def test_single_visit_and_template(amd: Amd):
    amd.h.admin.advance(61)
    one = amd.ok("getupdatedvisits", visitid="5001", visit=TEMPLATE)
    assert one["visitlist"]["visit"]["@id"] == "5001"
    template = amd.ok("getupdatedvisitstemplate")
    assert template["visit"]["@VisitStartDateTime"] == "VisitStartDateTime"
    assert "@ApptStatus" in template["visit"] and "@ChangedAt" in template["patient"]
