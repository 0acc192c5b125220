"""PROTOCOL §7 pitfalls not already pinned elsewhere, one test each (numbers in the names)."""

import json
import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from amdsync.amd.errors import ConcurrentEdit, DuplicatePatient, ServerError
from amdsync.amd.memory import ManualClock
from amdsync.amd.models import BookingRequest

from .fake_amd import FakeAmd, envelope, make_amd

MSGTIME = re.compile(r"^\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{2}:\d{2} (AM|PM)$")


def sent(fake, action):
    return [msg for name, msg, _ in fake.messages if name == action]


@pytest.fixture
def fake():
    f = FakeAmd()
    f.xmlrpc["getupdatedvisits"] = lambda msg: envelope({"@servertime": "2025-03-14T9:11:00.987"})
    f.xmlrpc["getdatevisits"] = lambda msg: envelope({"@servertime": "2025-03-14T09:07:01.1"})
    return f


def test_p02_step_two_resends_the_identical_login_body(fake):
    make_amd(fake).client.session()
    first, second = sent(fake, "login")
    assert first == second and first["@class"] == "login"


def test_p07_p25_datechanged_is_echoed_verbatim_and_msgtime_is_fresh(fake):
    start = datetime(2025, 3, 14, 15, 11, 0, tzinfo=UTC)
    clock = ManualClock(start - timedelta(seconds=10))
    amd = make_amd(fake, clock=clock)
    amd.client.session()  # the login's steps are paced; the feed call then goes at `start`
    clock.advance((start - clock.now()).total_seconds())
    first = amd.visits.updated("2015-03-24T8:25:28.730")
    clock.advance(3600)
    amd.visits.updated(first.servertime)
    a, b = sent(fake, "getupdatedvisits")
    assert a["@datechanged"] == "2015-03-24T8:25:28.730"
    assert b["@datechanged"] == "2025-03-14T9:11:00.987"  # unpadded hour kept as sent
    assert a["@msgtime"] == "3/14/2025 9:11:00 AM" and b["@msgtime"] == "3/14/2025 10:11:00 AM"


def test_p08_p09_template_asks_for_start_time_duration_and_untyped_visits(fake):
    make_amd(fake).visits.updated("2025-03-14T09:01:00.450")
    msg = sent(fake, "getupdatedvisits")[0]
    assert msg["@ignoreappttypes"] == "1"
    assert msg["visit"]["@start"] == "VisitStartDateTime"
    assert msg["visit"]["@duration"] == "Duration"
    assert msg["visit"]["@status"] == "ApptStatus"


def test_p10_p12_d_flag_is_kept_apart_from_the_numeric_status(fake):
    fake.xmlrpc["getupdatedvisits"] = lambda msg: envelope(
        {
            "visitlist": {
                "visit": [
                    {"@id": "5002", "@updatestatus": "D", "@status": "3"},
                    {"@id": "5003", "@updatestatus": "c", "@status": "12"},
                ]
            }
        }
    )
    visits = make_amd(fake).visits.updated("2025-03-14T09:01:00.450").visits
    assert [(v.update_status, v.status) for v in visits] == [("D", 3), ("C", 12)]


def test_p16_p19_msgtime_form_and_json_headers(fake):
    make_amd(fake).visits.on_date(datetime(2025, 3, 14).date())
    _, msg, headers = next(m for m in fake.messages if m[0] == "getdatevisits")
    assert MSGTIME.match(msg["@msgtime"])
    assert not msg["@msgtime"].endswith("Z")
    assert headers["accept"] == "application/json"
    assert headers["cookie"].startswith("token=")
    assert msg["@visitdate"] == "03/14/2025"


def test_p20_refid_lookup_sends_an_array_and_no_vendor_sample_mistakes(fake):
    fake.xmlrpc["getvisitidbyrefid"] = lambda msg: envelope(
        {"visitlist": {"visit": [{"@referenceid": "A", "@id": "5001"}, {"@referenceid": "B"}]}}
    )
    matches = make_amd(fake).visits.visit_ids_by_reference(["A", "B"])
    assert [(m.reference_id, m.visit_id) for m in matches] == [("A", "5001"), ("B", None)]
    msg = sent(fake, "getvisitidbyrefid")[0]
    assert isinstance(msg["visitlist"]["visit"], list)
    keys = json.dumps(msg)
    assert '"_' not in keys and '"-' not in keys and '" ' not in keys


def test_p05_p22_booking_uses_rest_and_move_takes_the_returned_id(fake):
    bodies = []

    def move(request):
        bodies.append(json.loads(request.content))
        return httpx.Response(
            200, json={"id": 6001, "status": 0, "startdatetime": "2025-03-21T11:00:00"}
        )

    fake.rest[("PUT", "/scheduler/Appointments/5001/move")] = move
    moved = make_amd(fake).scheduler.move("5001", 147, datetime(2025, 3, 21, 11, 0))
    assert moved.id == "6001"
    assert bodies[0]["startdatetime"] == "2025-03-21T11:00:00"
    assert "addvisit" not in fake.calls


def test_p17_addpatient_duplicate_is_surfaced_not_forced_or_retried(fake):
    fake.xmlrpc["addpatient"] = lambda msg: envelope(None, "-2147217400")
    amd = make_amd(fake)
    with pytest.raises(DuplicatePatient):
        amd.patients.add(
            {
                "name": "TEST,PATIENT",
                "dob": "01/01/1980",
                "sex": "U",
                "relationship": "1",
                "hipaarelationship": "18",
                "profile": "101",
            }
        )
    msg = sent(fake, "addpatient")
    assert len(msg) == 1 and "@force" not in msg[0]
    patient = msg[0]["patientlist"]["patient"]
    assert patient["@chart"] == "AUTO" and patient["@respparty"] == "SELF"


def test_p17_addpatient_is_not_retried_after_a_server_error(fake):
    amd = make_amd(fake)
    amd.client.session()
    fake.queued.append(httpx.Response(500))
    with pytest.raises(ServerError):
        amd.patients.add(
            {"name": "A,B", "relationship": "1", "hipaarelationship": "18", "profile": "1"}
        )
    assert "addpatient" not in fake.calls  # the one (failed) attempt was the queued 500


def test_p18_updatepatient_sends_old_values_and_4106_is_a_concurrent_edit(fake):
    fake.xmlrpc["updatepatient"] = lambda msg: envelope(None, "-2147217398")
    with pytest.raises(ConcurrentEdit):
        make_amd(fake).patients.update(
            "1001",
            {"additionalmrn": ("", "EHR-1")},
            contact_changes={"email": ("", "x@example.invalid")},
        )
    patient = sent(fake, "updatepatient")[0]["patientlist"]["patient"]
    assert patient["@o_additionalmrn"] == "" and patient["@additionalmrn"] == "EHR-1"
    assert patient["contactinfo"] == {"@o_email": "", "@email": "x@example.invalid"}


def test_p18_forced_update_drops_old_values(fake):
    fake.xmlrpc["updatepatient"] = lambda msg: envelope(
        {"patientlist": {"patient": {"@id": "pat1001"}}}
    )
    saved = make_amd(fake).patients.update("1001", {"chart": ("1", "2")}, force=True)
    msg = sent(fake, "updatepatient")[0]
    assert saved.id == "1001" and msg["@force"] == "1"
    assert "@o_chart" not in msg["patientlist"]["patient"]


def test_p23_only_patient_lookup_pages(fake):
    def lookup(msg):
        page = int(msg.get("@page", "1"))
        count = 50 if page == 1 else 10
        rows = [{"@id": f"pat{page * 100 + i}", "@name": "X,Y"} for i in range(count)]
        return envelope(
            {
                "patientlist": {
                    "@itemcount": "60",
                    "@page": str(page),
                    "@pagecount": "2",
                    "patient": rows,
                }
            }
        )

    fake.xmlrpc["lookuppatient"] = lookup
    found = make_amd(fake).patients.lookup("name", "X,Y")
    assert len(found) == 60
    pages = [m.get("@page") for m in sent(fake, "lookuppatient")]
    assert pages == [None, "2"]


def test_p27_get_by_id_shows_deleted_status(fake):
    fake.rest[("GET", "/scheduler/Appointments/5001")] = lambda r: httpx.Response(
        200, json={"id": 5001, "status": 11, "startdatetime": "0001-01-01T00:00:00"}
    )
    appt = make_amd(fake).scheduler.get("5001")
    assert appt.status == 11 and appt.startdatetime is None


def test_p28_cancel_sends_only_the_id_and_a_bad_reason_is_not_resent(fake):
    bodies = []

    def cancel(request):
        bodies.append(json.loads(request.content))
        if "noshowreasonid" in bodies[-1]:
            return httpx.Response(500)
        return httpx.Response(200, json={"id": ""})

    fake.rest[("PUT", "/scheduler/Appointments/5001/cancel")] = cancel
    amd = make_amd(fake)
    assert amd.scheduler.cancel("5001") is None
    assert bodies == [{"id": 5001}]
    with pytest.raises(ServerError):
        amd.scheduler.cancel("5001", reason_id="99")
    assert len(bodies) == 2


def test_booking_request_requires_the_documented_fields():
    with pytest.raises(ValueError):
        BookingRequest(
            patient_id=1,
            column_id=1,
            profile_id=1,
            start=datetime(2025, 3, 20),
            duration_minutes=0,
            type_ids=(1,),
        )
    with pytest.raises(ValueError):
        BookingRequest(
            patient_id=1,
            column_id=1,
            profile_id=1,
            start=datetime(2025, 3, 20),
            duration_minutes=30,
            type_ids=(),
        )
