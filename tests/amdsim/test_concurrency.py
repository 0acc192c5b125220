"""50 concurrent clients against the threaded server."""

from concurrent.futures import ThreadPoolExecutor

import httpx

from local.amdsim.handle import SimHandle
from tests.amdsim.helpers import Amd, fault_code


def test_fifty_concurrent_clients(amd_sim: SimHandle):
    amd_sim.admin.config(rate_limits_enabled=False)
    with httpx.Client(headers={"Accept": "application/json"}) as http:
        leader = Amd(amd_sim, http)
        leader.login()
    token, webserver = leader.token, leader.webserver

    def worker(n: int) -> tuple[int, int]:
        with httpx.Client(headers={"Accept": "application/json"}, timeout=30) as http:
            client = Amd(amd_sim, http)
            client.token, client.webserver = token, webserver
            assert fault_code(client.call("lookuppatient", name="TESTER")) is None
            column = 201 + n % 22
            hour = 8 + (n // 22) * 2
            resp = client.book(
                columnid=column,
                profileid=100 + column - 200,
                startdatetime=f"2025-04-15T{hour:02d}:00:00",
            )
            assert resp.status_code == 201, resp.text
            appt = resp.json()["id"]
            checkin = client.rest("PUT", f"/scheduler/Appointments/{appt}/checkin", {"id": appt})
            assert checkin.status_code == 200
            return appt, client.rest("GET", f"/scheduler/Appointments/{appt}").json()["status"]

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(worker, range(50)))
    ids = [appt for appt, _ in results]
    assert len(set(ids)) == 50
    assert {status for _, status in results} == {1}
    report = amd_sim.admin.report()
    assert report["violations"]["count"] == 0
    assert report["calls"]["by_action"]["appointments.create"] == 50
    assert report["duplicate_appointments"] == 0
