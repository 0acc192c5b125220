"""Sync-status reads carry ETag + Cache-Control and answer If-None-Match with 304; queue-facing
answers carry queuePosition and estimatedWaitSeconds; list endpoints page with limit/cursor."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from amdsync.domain.feed import ChangeFeedEntry
from amdsync.domain.journal import SyncLogEntry
from amdsync.web.paging import MAX_LIMIT
from tests.unit.api.samples import APPOINTMENT_BODY, PATIENT_BODY
from tests.unit.api.support import Api, Reply

STATUS_READS = [
    ("/patients/{patientId}/sync-status", {"patientId": "P-100"}),
    ("/appointments/{appointmentId}/sync-status", {"appointmentId": "A-200"}),
]


def _registered() -> Api:
    api = Api()
    api.call(
        "PUT",
        "/patients/{patientId}",
        roles=["ehr"],
        path_params={"patientId": "P-100"},
        body=PATIENT_BODY,
    )
    api.call(
        "PUT",
        "/appointments/{appointmentId}",
        roles=["ehr"],
        path_params={"appointmentId": "A-200"},
        body=APPOINTMENT_BODY,
    )
    return api


def _read(api: Api, path: str, params: dict[str, str], etag: str | None = None) -> Reply:
    headers = {"If-None-Match": etag} if etag else None
    return api.call("GET", path, roles=["provider"], path_params=params, headers=headers)


@pytest.mark.parametrize(("path", "params"), STATUS_READS)
def test_status_reads_carry_etag_and_cache_control(path: str, params: dict[str, str]) -> None:
    reply = _read(_registered(), path, params)
    assert reply.status == 200
    assert reply.headers["cache-control"] == "private, no-cache"
    assert reply.headers["etag"].startswith('"') and reply.headers["etag"].endswith('"')


@pytest.mark.parametrize(("path", "params"), STATUS_READS)
def test_if_none_match_answers_304_without_a_body(path: str, params: dict[str, str]) -> None:
    api = _registered()
    etag = _read(api, path, params).headers["etag"]
    again = _read(api, path, params, etag)
    assert again.status == 304
    assert again.text == ""
    assert again.headers["etag"] == etag
    listed = _read(api, path, params, f'"other", {etag}')
    assert listed.status == 304
    assert _read(api, path, params, '"stale"').status == 200


@pytest.mark.parametrize(("path", "params"), STATUS_READS)
def test_any_update_changes_the_etag(path: str, params: dict[str, str]) -> None:
    api = _registered()
    etag = _read(api, path, params).headers["etag"]
    if "patients" in path:
        body = {**PATIENT_BODY, "ehrVersion": 4, "phone": "5555550199"}
        api.call("PUT", "/patients/{patientId}", roles=["ehr"], path_params=params, body=body)
    else:
        api.call(
            "POST",
            "/appointments/{appointmentId}/status",
            roles=["ehr"],
            path_params=params,
            body={"status": "CONFIRMED"},
        )
    changed = _read(api, path, params, etag)
    assert changed.status == 200
    assert changed.headers["etag"] != etag


QUEUE_FACING = [
    ("PUT", "/patients/{patientId}", {"patientId": "P-100"}, PATIENT_BODY, "ehr"),
    ("POST", "/patients/{patientId}/sync", {"patientId": "P-100"}, None, "billing"),
    (
        "PUT",
        "/appointments/{appointmentId}",
        {"appointmentId": "A-200"},
        {**APPOINTMENT_BODY, "ehrVersion": 2, "durationMinutes": 60},
        "ehr",
    ),
    ("POST", "/appointments/{appointmentId}/sync", {"appointmentId": "A-200"}, None, "ehr"),
    (
        "POST",
        "/appointments/{appointmentId}/status",
        {"appointmentId": "A-200"},
        {"status": "CONFIRMED"},
        "ehr",
    ),
]


@pytest.mark.parametrize(("method", "path", "params", "body", "role"), QUEUE_FACING)
def test_202_answers_carry_queue_position_and_wait(
    method: str, path: str, params: dict[str, str], body: Any, role: str
) -> None:
    api = Api()
    if "patients" not in path or method != "PUT":
        api = _registered()
    for n in range(3):  # other work ahead in the queue
        api.call(
            "PUT",
            "/patients/{patientId}",
            roles=["ehr"],
            path_params={"patientId": f"P-{n}"},
            body=PATIENT_BODY,
        )
    ahead = api.world.queue.depth()
    reply = api.call(method, path, roles=[role], path_params=params, body=body)
    assert reply.status == 202, reply.text
    data = reply.json()
    assert isinstance(data["queuePosition"], int) and data["queuePosition"] >= 1
    assert isinstance(data["estimatedWaitSeconds"], int) and data["estimatedWaitSeconds"] >= 0
    assert data["queuePosition"] == api.world.queue.depth() > ahead >= 3


def test_bulk_sync_answers_202_with_job_and_wait() -> None:
    reply = Api().call(
        "POST",
        "/appointments/bulk-sync",
        roles=["billing"],
        body={"from": "2026-12-01", "to": "2026-12-07"},
    )
    assert reply.status == 202
    data = reply.json()
    assert data["jobId"] and isinstance(data["estimatedWaitSeconds"], int)


def _log(api: Api, n: int) -> None:
    now = api.world.clock.now()
    for i in range(n):
        api.world.logs.append(
            SyncLogEntry.model_validate(
                {
                    "id": f"log-{i:03d}",
                    "at": (now - timedelta(minutes=i)).isoformat(),
                    "entityType": "patient",
                    "entityId": "P-100",
                    "operation": "create",
                    "direction": "to_amd",
                    "outcome": "success",
                    "durationMs": 10,
                    "amdCalls": 1,
                }
            )
        )


def _walk(api: Api, path: str, params: dict[str, str], limit: int) -> list[list[Any]]:
    pages: list[list[Any]] = []
    cursor: str | None = None
    while True:
        query = {"limit": str(limit)} | ({"cursor": cursor} if cursor else {})
        reply = api.call("GET", path, roles=["admin"], path_params=params, query=query)
        assert reply.status == 200, reply.text
        data = reply.json()
        pages.append(data["items"])
        cursor = data["nextCursor"]
        if cursor is None:
            return pages


@pytest.mark.parametrize(
    ("path", "params"),
    [("/sync/logs", {}), ("/patients/{patientId}/sync-logs", {"patientId": "P-100"})],
)
def test_log_lists_page_with_limit_and_cursor(path: str, params: dict[str, str]) -> None:
    api = Api()
    _log(api, 7)
    pages = _walk(api, path, params, 3)
    assert [len(p) for p in pages] == [3, 3, 1]
    ids = [item["id"] for page in pages for item in page]
    assert len(set(ids)) == 7


@pytest.mark.parametrize("limit", ["0", str(MAX_LIMIT + 1), "-1"])
def test_limit_out_of_range_is_422(limit: str) -> None:
    Api().call("GET", "/sync/logs", roles=["admin"], query={"limit": limit}).assert_problem(
        422, "VALIDATION_FAILED"
    )


def test_change_feed_pages_by_cursor() -> None:
    api = Api()
    api.world.feed.append(
        [
            ChangeFeedEntry.model_validate(
                {
                    "appointmentId": f"A-{i}",
                    "advancedMDVisitId": str(5000 + i),
                    "kind": "status",
                    "fields": {"status": "CHECKED_IN"},
                    "at": api.world.clock.now().isoformat(),
                }
            )
            for i in range(5)
        ]
    )
    first = api.call("GET", "/changes", roles=["ehr"], query={"limit": "2"}).json()
    assert [i["appointmentId"] for i in first["items"]] == ["A-0", "A-1"]
    query = {"limit": "2", "cursor": first["nextCursor"]}
    second = api.call("GET", "/changes", roles=["ehr"], query=query).json()
    assert [i["appointmentId"] for i in second["items"]] == ["A-2", "A-3"]
    query = {"limit": "200", "cursor": second["nextCursor"]}
    rest = api.call("GET", "/changes", roles=["ehr"], query=query).json()
    assert [i["appointmentId"] for i in rest["items"]] == ["A-4"]
    # Nothing new: the cursor stays where it is (the EHR polls with it again).
    query = {"cursor": rest["nextCursor"]}
    idle = api.call("GET", "/changes", roles=["ehr"], query=query).json()
    assert idle["items"] == [] and idle["nextCursor"] == rest["nextCursor"]


def test_conflicts_page_with_limit_and_cursor() -> None:
    api = Api()
    reply = api.call("GET", "/conflicts", roles=["admin"], query={"limit": "1", "state": "all"})
    assert reply.status == 200 and reply.json() == {"items": [], "nextCursor": None}
