"""SPEC §9.2 before routing: bodies must be JSON (415 otherwise), nesting is bounded and keys are
unique (400), an unknown route key is 404 — and no answer echoes what was sent."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.lambda_support import FakeLambdaContext
from tests.unit.api.samples import APPOINTMENT_BODY, PATIENT_BODY
from tests.unit.api.support import Api, Reply, claims, http_event

PHI = "Zebra-Sentinel-7731"


def _put_patient(body: str, content_type: str | None) -> Reply:
    headers = {} if content_type is None else {"content-type": content_type}
    event = http_event(
        "PUT",
        "/patients/{patientId}",
        path_params={"patientId": "P-1"},
        body=body,
        headers=headers,
        jwt_claims=claims(["ehr"]),
    )
    if content_type is None:
        del event["headers"]["content-type"]
    api = Api()
    assert api.resolver is not None
    return Reply(api.resolver.resolve(event, FakeLambdaContext()))


def _patient_json(**changes: Any) -> str:
    return json.dumps({**PATIENT_BODY, "firstName": PHI, **changes})


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (_patient_json(), "text/plain"),
        (
            f"firstName={PHI}&lastName=Sample&dateOfBirth=1980-04-02",
            "application/x-www-form-urlencoded",
        ),
        (_patient_json(), None),
        (_patient_json(), "application/merge-patch+json"),
    ],
    ids=["text-plain", "form", "no-content-type", "merge-patch-on-put"],
)
def test_a_body_that_is_not_json_is_415_without_echo(body: str, content_type: str | None) -> None:
    reply = _put_patient(body, content_type)
    reply.assert_problem(415, "UNSUPPORTED_MEDIA_TYPE")
    assert PHI not in reply.text and "Sample" not in reply.text


def test_json_with_a_charset_is_accepted() -> None:
    reply = _put_patient(json.dumps(PATIENT_BODY), "application/json; charset=utf-8")
    assert reply.status == 202, reply.text


def test_3000_levels_of_nesting_is_400_not_500() -> None:
    deep = "[" * 3000 + "]" * 3000
    reply = _put_patient(f'{{"firstName": {deep}}}', "application/json")
    reply.assert_problem(400, "JSON_TOO_DEEP")


def test_nesting_is_allowed_up_to_twenty_levels() -> None:
    nested: Any = "x"
    for _ in range(19):  # the body object itself is the 20th level
        nested = [nested]
    reply = _put_patient(_patient_json(firstName=nested), "application/json")
    reply.assert_problem(422, "VALIDATION_FAILED")  # wrong type, but parsed
    too_deep = _put_patient(_patient_json(firstName=[nested]), "application/json")
    too_deep.assert_problem(400, "JSON_TOO_DEEP")


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    reply = _put_patient(
        json.dumps({**PATIENT_BODY, "address": {**PATIENT_BODY["address"], "line1": "[" * 50}}),
        "application/json",
    )
    assert reply.status != 400, reply.text


def test_a_duplicate_key_is_400_without_echo() -> None:
    body = _patient_json()[:-1] + f', "firstName": "{PHI}-2"}}'
    reply = _put_patient(body, "application/json")
    reply.assert_problem(400, "DUPLICATE_KEY")
    assert PHI not in reply.text


def test_an_unknown_route_key_is_404() -> None:
    event = http_event("GET", "/sync/dashboard", jwt_claims=claims(["admin"]))
    event["routeKey"] = "GET /api/advancedmd/secret-admin"
    event["requestContext"]["routeKey"] = event["routeKey"]
    api = Api()
    assert api.resolver is not None
    Reply(api.resolver.resolve(event, FakeLambdaContext())).assert_problem(404, "NOT_FOUND")


@pytest.mark.parametrize(
    "changes",
    [
        {"ehrVersion": 10**41},
        {"start": "9999-12-31T23:30:00", "timeZone": "Pacific/Kiritimati"},
        {"start": "0001-01-01T00:10:00", "timeZone": "America/New_York"},
    ],
    ids=["huge-version", "year-9999", "year-1"],
)
def test_values_that_overflowed_into_500s_are_422(changes: dict[str, Any]) -> None:
    api = Api()
    reply = api.call(
        "PUT",
        "/appointments/{appointmentId}",
        roles=["ehr"],
        path_params={"appointmentId": "A-1"},
        body={**APPOINTMENT_BODY, **changes},
    )
    field = next(iter(changes))
    problem = reply.assert_problem(422, "VALIDATION_FAILED")
    assert field in problem["detail"]
