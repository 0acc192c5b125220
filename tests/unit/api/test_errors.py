"""Every known failure answers `application/problem+json` (type/title/status/detail/code) with
the documented status, names the offending field, never echoes submitted values, and never
leaks a stack trace: malformed JSON 400, invalid 422, oversized 413, unknown ids 404, illegal
transitions 409, AMD outages 503 + Retry-After, AMD business errors 502."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from amdsync.amd.errors import (
    AppointmentConflict,
    AuthenticationFailed,
    RateLimited,
    ServerError,
    SessionExpired,
    TimeoutError_,
)
from amdsync.web.resolver import MAX_BODY_BYTES
from tests.unit.api.samples import APPOINTMENT_BODY, PATIENT_BODY, SETTINGS_BODY
from tests.unit.api.support import Api, Reply

SENTINEL = "Zebra-Sentinel-7731"  # a value that must never come back in an error body


@dataclass(frozen=True)
class BodyRoute:
    method: str
    path: str
    role: str
    params: dict[str, str]
    body: dict[str, Any]
    wrong_type: tuple[str, Any]  # field, a value of the wrong type
    required: str | None  # a field that must be present (None: every field has a default)
    bad_date: tuple[str, str] | None = None
    setup: tuple[str, ...] = field(default_factory=tuple)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


BODY_ROUTES = [
    BodyRoute(
        "PUT",
        "/patients/{patientId}",
        "ehr",
        {"patientId": "P-100"},
        PATIENT_BODY,
        ("ehrVersion", SENTINEL),
        "lastName",
        ("dateOfBirth", "1980-02-30"),
    ),
    BodyRoute(
        "PUT",
        "/appointments/{appointmentId}",
        "ehr",
        {"appointmentId": "A-200"},
        APPOINTMENT_BODY,
        ("durationMinutes", SENTINEL),
        "patientId",
        ("start", "2026-13-01T10:00:00"),
    ),
    BodyRoute(
        "POST",
        "/appointments/{appointmentId}/status",
        "ehr",
        {"appointmentId": "A-200"},
        {"status": "CHECKED_IN", "ehrVersion": 2},
        ("ehrVersion", SENTINEL),
        "status",
        setup=("appointment",),
    ),
    BodyRoute(
        "POST",
        "/appointments/bulk-sync",
        "billing",
        {},
        {"from": "2026-12-01", "to": "2026-12-07", "providerId": None},
        ("providerId", {"nested": SENTINEL}),
        "to",
        ("from", "2026-02-30"),
    ),
    BodyRoute(
        "POST",
        "/conflicts/{conflictId}/resolve",
        "admin",
        {"conflictId": "c-0001"},
        {"keep": "ehr"},
        ("fields", SENTINEL),
        "keep",
    ),
    BodyRoute("PUT", "/settings", "admin", {}, SETTINGS_BODY, ("dailyHour", SENTINEL), None),
    BodyRoute(
        "PUT",
        "/mappings/{kind}/{ehrId}",
        "admin",
        {"kind": "providers", "ehrId": "DR-9"},
        {"amdId": "23", "amdColumnId": "33", "confirmed": True},
        ("confirmed", SENTINEL),
        "amdId",
    ),
]


def _send(api: Api, route: BodyRoute, body: Any) -> Reply:
    return api.call(
        route.method, route.path, roles=[route.role], path_params=route.params, body=body
    )


def _registered_api() -> Api:
    api = Api()
    api.call(
        "PUT",
        "/patients/{patientId}",
        roles=["ehr"],
        path_params={"patientId": "P-100"},
        body=PATIENT_BODY,
    )
    reply = api.call(
        "PUT",
        "/appointments/{appointmentId}",
        roles=["ehr"],
        path_params={"appointmentId": "A-200"},
        body=APPOINTMENT_BODY,
    )
    assert reply.status == 202, reply.text
    return api


def _fields(body: dict[str, Any]) -> set[str]:
    return {e["field"] for e in body.get("errors", [])}


@pytest.mark.parametrize("route", BODY_ROUTES, ids=str)
def test_the_valid_sample_is_accepted(route: BodyRoute) -> None:
    # Guards the cases below: each fails for its one defect, not because the sample is bad.
    reply = _send(_registered_api(), route, route.body)
    assert reply.status in (200, 202, 404), reply.text  # 404: no such conflict on fake data


@pytest.mark.parametrize(
    "text", ['{"firstName": "Ada",', "not json at all", "[1, 2"], ids=["truncated", "text", "array"]
)
@pytest.mark.parametrize("route", BODY_ROUTES, ids=str)
def test_malformed_json_is_400(route: BodyRoute, text: str) -> None:
    body = _send(Api(), route, text).assert_problem(400, "MALFORMED_REQUEST")
    assert "Ada" not in body["detail"]


@pytest.mark.parametrize("route", BODY_ROUTES, ids=str)
def test_wrong_type_is_422_naming_the_field_without_echoing_it(route: BodyRoute) -> None:
    name, value = route.wrong_type
    reply = _send(_registered_api(), route, {**route.body, name: value})
    body = reply.assert_problem(422, "VALIDATION_FAILED")
    assert name in _fields(body)
    assert name in body["detail"]
    assert SENTINEL not in reply.text


@pytest.mark.parametrize("route", BODY_ROUTES, ids=str)
def test_unknown_field_is_422_naming_it_without_echoing_it(route: BodyRoute) -> None:
    reply = _send(_registered_api(), route, {**route.body, "favouriteColour": SENTINEL})
    body = reply.assert_problem(422, "VALIDATION_FAILED")
    assert "favouriteColour" in _fields(body)
    assert SENTINEL not in reply.text


@pytest.mark.parametrize("route", [r for r in BODY_ROUTES if r.required], ids=str)
def test_missing_field_is_422_naming_it(route: BodyRoute) -> None:
    assert route.required is not None
    body = {k: v for k, v in route.body.items() if k != route.required}
    problem = _send(_registered_api(), route, body).assert_problem(422, "VALIDATION_FAILED")
    assert route.required in _fields(problem)


@pytest.mark.parametrize("route", [r for r in BODY_ROUTES if r.bad_date], ids=str)
def test_impossible_date_is_422_naming_it_without_echoing_it(route: BodyRoute) -> None:
    assert route.bad_date is not None
    name, value = route.bad_date
    reply = _send(_registered_api(), route, {**route.body, name: value})
    body = reply.assert_problem(422, "VALIDATION_FAILED")
    assert name in _fields(body)
    assert value not in reply.text


@pytest.mark.parametrize(
    ("path", "query", "field_name"),
    [
        ("/appointments", {"from": "2026-02-30", "to": "2026-03-01"}, "from"),
        ("/appointments", {"from": "2026-03-01"}, "to"),
        ("/appointments", {"from": "2026-03-01", "to": "2026-02-01"}, None),
        ("/sync/logs", {"from": "2026-02-30"}, "from"),
        ("/sync/logs", {"to": "yesterday"}, "to"),
        ("/sync/logs", {"limit": "many"}, "limit"),
        ("/sync/logs", {"limit": "0"}, None),
        ("/sync/stats", {"period": "1y"}, None),
        ("/conflicts", {"state": "sideways"}, None),
    ],
)
def test_bad_query_values_are_422(path: str, query: dict[str, str], field_name: str | None) -> None:
    reply = Api().call("GET", path, roles=["admin"], query=query)
    body = reply.assert_problem(422, "VALIDATION_FAILED")
    if field_name is not None:
        assert any(f.split(".")[-1] == field_name for f in _fields(body)), body
        assert field_name in body["detail"]


@pytest.mark.parametrize(
    ("path", "cursor"), [("/sync/logs", "not-a-cursor"), ("/changes", "abc"), ("/conflicts", "%%%")]
)
def test_a_cursor_we_did_not_issue_is_400(path: str, cursor: str) -> None:
    role = "ehr" if path == "/changes" else "admin"
    Api().call("GET", path, roles=[role], query={"cursor": cursor}).assert_problem(
        400, "BAD_CURSOR"
    )


@pytest.mark.parametrize("route", BODY_ROUTES, ids=str)
def test_oversized_body_is_413(route: BodyRoute) -> None:
    padded = {**route.body, "padding": "x" * (MAX_BODY_BYTES + 1)}
    reply = _send(Api(), route, padded)
    reply.assert_problem(413, "BODY_TOO_LARGE")
    assert "xxxx" not in reply.text


UNKNOWN_IDS = [
    (
        "GET",
        "/patients/{patientId}/sync-status",
        {"patientId": "P-404"},
        None,
        "provider",
        "PATIENT_NOT_FOUND",
    ),
    ("POST", "/patients/{patientId}/sync", {"patientId": "P-404"}, None, "ehr", "NOT_REGISTERED"),
    (
        "GET",
        "/appointments/{appointmentId}/sync-status",
        {"appointmentId": "A-404"},
        None,
        "billing",
        "APPOINTMENT_NOT_FOUND",
    ),
    (
        "POST",
        "/appointments/{appointmentId}/sync",
        {"appointmentId": "A-404"},
        None,
        "ehr",
        "NOT_REGISTERED",
    ),
    (
        "POST",
        "/appointments/{appointmentId}/status",
        {"appointmentId": "A-404"},
        {"status": "CHECKED_IN"},
        "ehr",
        "NOT_REGISTERED",
    ),
    (
        "GET",
        "/appointments/bulk-sync/{jobId}",
        {"jobId": "job-404"},
        None,
        "billing",
        "BULK_JOB_NOT_FOUND",
    ),
    (
        "POST",
        "/appointments/bulk-sync/{jobId}/cancel",
        {"jobId": "job-404"},
        None,
        "billing",
        "BULK_JOB_NOT_FOUND",
    ),
    ("GET", "/visits/{visitId}", {"visitId": "999999"}, None, "billing", "VISIT_NOT_FOUND"),
    ("GET", "/visits/{visitId}", {"visitId": "not-a-number"}, None, "billing", "VISIT_NOT_FOUND"),
    (
        "POST",
        "/conflicts/{conflictId}/resolve",
        {"conflictId": "c-404"},
        {"keep": "amd"},
        "admin",
        "CONFLICT_NOT_FOUND",
    ),
    ("GET", "/mappings/{kind}", {"kind": "colours"}, None, "admin", "UNKNOWN_MAPPING_KIND"),
    (
        "PUT",
        "/mappings/{kind}/{ehrId}",
        {"kind": "colours", "ehrId": "X"},
        {"amdId": "1"},
        "admin",
        "UNKNOWN_MAPPING_KIND",
    ),
]


@pytest.mark.parametrize(
    ("method", "path", "params", "body", "role", "code"),
    UNKNOWN_IDS,
    ids=[f"{c[0]} {c[1]} {next(iter(c[2].values()))}" for c in UNKNOWN_IDS],
)
def test_unknown_ids_are_404(
    method: str, path: str, params: dict[str, str], body: Any, role: str, code: str
) -> None:
    reply = _registered_api().call(method, path, roles=[role], path_params=params, body=body)
    body_json = reply.assert_problem(404, code)
    for value in params.values():
        assert value not in body_json["detail"]


def test_unknown_route_is_404_problem() -> None:
    Api().call("GET", "/nothing-here", roles=["admin"]).assert_problem(404, "NOT_FOUND")


def _status(api: Api, status: str, reason: str | None = None) -> Reply:
    body: dict[str, Any] = {"status": status}
    if reason:
        body["reason"] = reason
    return api.call(
        "POST",
        "/appointments/{appointmentId}/status",
        roles=["ehr"],
        path_params={"appointmentId": "A-200"},
        body=body,
    )


@pytest.mark.parametrize("target", ["CHECKED_OUT", "CHECKED_IN", "NO_SHOW"])
def test_illegal_status_transition_is_409_and_changes_nothing(target: str) -> None:
    api = _registered_api()
    assert _status(api, "CANCELLED", "PATIENT_REQUEST").status == 202
    _status(api, target).assert_problem(409, "ILLEGAL_TRANSITION")
    stored = api.world.appointments.get("A-200")
    assert stored is not None and stored.value.status == "CANCELLED"


def test_illegal_transition_through_put_is_409() -> None:
    api = _registered_api()
    assert _status(api, "CANCELLED", "PATIENT_REQUEST").status == 202
    reply = api.call(
        "PUT",
        "/appointments/{appointmentId}",
        roles=["ehr"],
        path_params={"appointmentId": "A-200"},
        body={**APPOINTMENT_BODY, "status": "CHECKED_OUT", "ehrVersion": 9},
    )
    reply.assert_problem(409, "ILLEGAL_TRANSITION")


# Routes that call AMD while answering (everything else only queues work).
AMD_ROUTES = [
    ("GET", "/appointments", {}, {"from": "2026-12-01", "to": "2026-12-01"}, "visits_on"),
    ("GET", "/visits/{visitId}", {"visitId": "5001"}, {}, "get_appointment"),
]
ADMIN_ROUTES = [
    ("GET", "/providers", {}, "lookup"),
    ("GET", "/facilities", {}, "lookup"),
    ("GET", "/mappings/{kind}", {"kind": "facilities"}, "lookup"),
]
OUTAGES = [
    (ServerError(http_status=503), 503, "AMD_UNAVAILABLE", "30"),
    (TimeoutError_(), 503, "AMD_UNAVAILABLE", "30"),
    (SessionExpired(), 503, "AMD_UNAVAILABLE", "30"),
    (RateLimited(12.2), 503, "RATE_LIMITED", "13"),
    (AppointmentConflict(amd_code=1), 502, "AMD_CONFLICT", None),
    (AuthenticationFailed(), 502, "AMD_AUTH_FAILED", None),
]


def _check_outage(reply: Reply, status: int, code: str, retry_after: str | None) -> None:
    body = reply.assert_problem(status, code)
    assert reply.headers.get("retry-after") == retry_after
    assert status != 500 and "Traceback" not in reply.text
    assert "Patient" not in body["detail"]


@pytest.mark.parametrize(("error", "status", "code", "retry_after"), OUTAGES, ids=str)
@pytest.mark.parametrize(("method", "path", "params", "query", "method_name"), AMD_ROUTES)
def test_amd_failures_while_answering(
    method: str,
    path: str,
    params: dict[str, str],
    query: dict[str, str],
    method_name: str,
    error: Exception,
    status: int,
    code: str,
    retry_after: str | None,
) -> None:
    api = Api()
    api.world.amd.faults.fail(method_name, error)
    reply = api.call(method, path, roles=["billing"], path_params=params, query=query)
    _check_outage(reply, status, code, retry_after)


@pytest.mark.parametrize(("error", "status", "code", "retry_after"), OUTAGES, ids=str)
@pytest.mark.parametrize(("method", "path", "params", "method_name"), ADMIN_ROUTES)
def test_amd_failures_in_lookups(
    method: str,
    path: str,
    params: dict[str, str],
    method_name: str,
    error: Exception,
    status: int,
    code: str,
    retry_after: str | None,
) -> None:
    api = Api()
    api.services.admin.faults.fail(method_name, error)
    reply = api.call(method, path, roles=["admin"], path_params=params)
    _check_outage(reply, status, code, retry_after)


def test_an_unexpected_error_is_a_generic_500_problem_without_details() -> None:
    api = Api()
    api.world.amd.faults.fail("get_appointment", RuntimeError("secret detail Ada Sample"))
    reply = api.call("GET", "/visits/{visitId}", roles=["billing"], path_params={"visitId": "5001"})
    body = reply.assert_problem(500, "INTERNAL")
    assert "Ada" not in reply.text and "secret" not in reply.text
    assert body["title"]
