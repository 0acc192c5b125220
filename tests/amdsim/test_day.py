"""One full clinic day by a well-behaved client: one login, peak-hour pacing, no violations."""

from collections import Counter
from datetime import timedelta

import httpx

from local.amdsim.handle import SimHandle
from local.amdsim.ratelimit import tier_of
from tests.amdsim.helpers import Amd, as_list, denver, fault_code

PEAK = {1: 1, 2: 12, 3: 24}
TEMPLATE = {
    "@start": "VisitStartDateTime",
    "@status": "ApptStatus",
    "@duration": "Duration",
    "@column": "ColumnHeading",
    "@type": "AppointmentType",
    "@modified": "ModifiedAt",
}


class PacedClient(Amd):
    """Keeps to the peak budgets by waiting (advancing the simulated clock) for the next
    calendar minute, and lets one simulated second pass per call."""

    def __init__(self, handle: SimHandle, http: httpx.Client) -> None:
        super().__init__(handle, http)
        self.minute = -1
        self.used: Counter[str] = Counter()

    def pace(self, key: str, tier: int) -> None:
        now = self.h.sim.clock.now()
        minute = int(now.timestamp() // 60)
        if minute != self.minute:
            self.minute, self.used = minute, Counter()
        capped = key in {"getupdatedvisits", "getupdatedpatients"}
        if self.used[f"t{tier}"] >= PEAK[tier] or (capped and self.used[key] >= 1):
            self.h.admin.advance(60 - now.second + 0.001 * (1000 - now.microsecond // 1000))
            self.minute, self.used = minute + 1, Counter()
        self.used[f"t{tier}"] += 1
        self.used[key] += 1
        self.h.admin.advance(1)

    def raw(self, action: str, cls: str = "api", **fields):
        self.pace(action.lower(), tier_of(action))
        return super().raw(action, cls, **fields)

    def rest(self, method: str, path: str, body=None, **params):
        self.pace("rest", 2)
        return super().rest(method, path, body, **params)

    def at(self, local: str) -> None:
        self.h.admin.set_clock(denver(local), frozen=True)


def test_full_day(amd_sim: SimHandle, http: httpx.Client):
    amd_sim.admin.reset(clock=denver("2025-03-12 06:55:00"), frozen=True, appointments=0)
    amd = PacedClient(amd_sim, http)
    amd.login()

    profiles = as_list(amd.ok("lookupprofile", name="", exactmatch="-1")["profilelist"]["profile"])
    amd.ok("lookupfacility", "lookup", exactmatch="-1", code="", page="1")
    setup = amd.ok("getschedulersetup", "masterfiles")
    amd.ok("getappttypes", "masterfiles", appttype="")
    reasons = amd.ok("selectcancelreasons", "masterfiles")["cancelreasonlist"]["cancelreason"]
    columns = [
        c for c in setup["columnlist"]["column"] if c["columnsetting"]["@maxapptsperslot"] == "1"
    ]
    assert len(profiles) >= 20 and len(columns) >= 5

    patient_ids = []
    for name in ("TESTER,BRAVO", "SAMPLE,CHARLIE", "DUMMY,DELTA"):
        found = amd.ok("lookuppatient", name=name, exactmatch="1")["patientlist"]["patient"]
        patient_ids.append(int(found["@id"][3:]))
    for i, first in enumerate(("ONE", "TWO")):
        new = {
            "@name": f"DAYCASE,{first}",
            "@dob": f"0{i + 1}/15/1985",
            "@sex": "U",
            "@chart": "AUTO",
            "@relationship": "1",
            "@hipaarelationship": "18",
            "@profile": "101",
            "@insorder": "",
            "@respparty": "SELF",
        }
        added = amd.ok("addpatient", patientlist={"patient": new})
        patient_ids.append(int(added["patientlist"]["patient"]["@id"][3:]))
    amd.ok("getdemographic", patientid=str(patient_ids[-1]))

    watermark = amd.ok("getdatevisits", visitdate="3/12/2025", visit=TEMPLATE)["@servertime"]
    booked: list[tuple[int, str]] = []
    for n in range(30):
        col = columns[n % 5]
        col_id = int(col["@id"][3:])
        start = f"2025-03-12T{10 + n // 5:02d}:{'30' if col_id % 2 else '45'}:00"
        ref = f"EHR-DAY-{n:03d}"
        refs = amd.ok("getvisitidbyrefid", visitlist={"visit": {"@referenceid": ref}})
        assert "@id" not in refs["visitlist"]["visit"]
        resp = amd.rest(
            "POST",
            "/scheduler/Appointments",
            {
                "patientid": patient_ids[n % len(patient_ids)],
                "columnid": col_id,
                "profileid": int(col["@profile"][4:]),
                "startdatetime": start,
                "duration": 30,
                "type": [{"id": 13}],
                "referenceid": ref,
                "clientdatetime": "2025-03-12T07:00:00",
            },
        )
        assert resp.status_code == 201, resp.text
        booked.append((resp.json()["id"], start))

    seen: dict[str, str] = {}
    for hour in range(10, 16):
        amd.at(f"2025-03-12 {hour}:25:00")
        arrived = []
        for index, (appt, start) in enumerate(booked):
            if int(start[11:13]) != hour:
                continue
            path = f"/scheduler/Appointments/{appt}"
            if index % 6 == 5:
                body = {"id": appt, "noshowreasonid": reasons[0]["@id"]}
                assert amd.rest("PUT", path + "/cancel", body).status_code == 200
            elif index % 10 == 4:
                assert amd.rest("PUT", path + "/noshow", {"id": appt}).status_code == 200
            else:
                assert amd.rest("PUT", path + "/checkin", {"id": appt}).status_code == 200
                arrived.append(path)
        amd.h.admin.advance(20 * 60)
        for path in arrived:
            assert (
                amd.rest("PUT", path + "/checkout", {"id": int(path.rsplit("/", 1)[1])}).status_code
                == 200
            )
        reply = amd.call("getupdatedvisits", datechanged=watermark, visit=TEMPLATE)
        assert fault_code(reply) is None
        for visit in as_list((reply["Results"]["visitlist"] or {}).get("visit")):
            seen[visit["@id"]] = visit["@status"]
        watermark = reply["Results"]["@servertime"]

    amd.h.admin.advance(timedelta(hours=1).total_seconds())
    final = amd.call("getupdatedvisits", datechanged=watermark, visit=TEMPLATE)
    assert fault_code(final) is None
    assert {str(appt) for appt, _ in booked} <= set(seen)
    statuses = Counter(seen[str(appt)] for appt, _ in booked)
    assert statuses == {"3": 22, "10": 5, "12": 3}

    report = amd_sim.admin.report()
    assert report["logins"] == 1
    assert report["violations"] == {"count": 0, "items": []}
    assert report["http_429"] == 0 and report["rate_limited"]["total"] == 0
    assert report["duplicate_appointments"] == 0 and report["duplicate_patients"] == 0
    assert report["calls"]["by_action"]["appointments.create"] == 30
    assert report["msgtime_skew_warnings"] == 0 and report["window_gap_warnings"] == 0
