"""`Idempotency-Key` on every mutating route: Powertools idempotency over a moto DynamoDB table
shaped like the control table (pk/sk, TTL `expiresAt`), in front of the resolver over fakes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from amdsync.web.idempotency import dynamodb_persistence
from amdsync.web.resolver import create_resolver
from amdsync.web.routes import API_ROUTES, RouteSpec
from tests.fakes import PRACTICE
from tests.moto_tables import PK_SK_TABLE
from tests.unit.api.samples import APPOINTMENT_BODY, PATIENT_BODY, route_id, sample_for
from tests.unit.api.support import Api, FakeApiServices, Reply, claims

TABLE = "amdsync-control-test"
MUTATING = [r for r in API_ROUTES if r.method in ("POST", "PUT") and r.roles is not None]
REPLAYED = "idempotent-replayed"


@pytest.fixture
def dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("dynamodb")
        client.create_table(TableName=TABLE, **PK_SK_TABLE)
        yield client


def _api(table: str = TABLE) -> Api:
    services = FakeApiServices()
    resolver = create_resolver(
        lambda: services, idempotency=dynamodb_persistence(table, lambda: services.practice)
    )
    return Api(services=services, resolver=resolver)


def _register(api: Api, key: str | None = None, body: Any = None, appt: str = "A-200") -> Reply:
    headers = {"Idempotency-Key": key} if key else None
    return api.call(
        "PUT",
        "/appointments/{appointmentId}",
        roles=["ehr"],
        path_params={"appointmentId": appt},
        body=APPOINTMENT_BODY if body is None else body,
        headers=headers,
    )


def _sync(api: Api, key: str | None, appt: str = "A-200") -> Reply:
    return api.call(
        "POST",
        "/appointments/{appointmentId}/sync",
        roles=["ehr"],
        path_params={"appointmentId": appt},
        headers={"Idempotency-Key": key} if key else None,
    )


def test_a_repeat_replays_the_stored_response_without_running_again(dynamodb: Any) -> None:
    api = _api()
    assert _register(api).status == 202
    first = _sync(api, "key-1")
    depth = api.world.queue.depth()
    second = _sync(api, "key-1")
    assert first.status == second.status == 202
    assert second.json() == first.json()
    assert second.headers[REPLAYED] == "true"
    assert REPLAYED not in first.headers
    assert second.headers["content-type"] == "application/json"
    assert api.world.queue.depth() == depth  # nothing queued the second time


def test_without_the_header_requests_behave_as_before(dynamodb: Any) -> None:
    api = _api()
    _register(api)
    depth = api.world.queue.depth()
    assert _sync(api, None).status == 202
    assert _sync(api, None).status == 202
    assert api.world.queue.depth() == depth + 2
    assert dynamodb.scan(TableName=TABLE)["Count"] == 0


def test_the_record_lives_in_the_control_table_with_a_ttl(dynamodb: Any) -> None:
    api = _api()
    assert _register(api, "key-ttl").status == 202
    items = dynamodb.scan(TableName=TABLE)["Items"]
    assert len(items) == 1
    item = items[0]
    assert item["pk"]["S"] == f"{PRACTICE}#IDEMPOTENCY"
    assert item["sk"]["S"].startswith("api#")
    assert item["status"]["S"] == "COMPLETED"
    assert int(item["expiresAt"]["N"]) > 0
    # The key is hashed: neither the header nor the body (PHI for patients) is stored in clear.
    assert "key-ttl" not in str(item["sk"])
    assert "validation" in item


def test_same_key_with_a_different_body_is_422(dynamodb: Any) -> None:
    api = _api()
    assert _register(api, "key-2").status == 202
    changed = {**APPOINTMENT_BODY, "durationMinutes": 90}
    reply = _register(api, "key-2", changed)
    reply.assert_problem(422, "IDEMPOTENCY_KEY_REUSED")
    stored = api.world.appointments.get("A-200")
    assert stored is not None and stored.value.duration_minutes == 50


def test_formatting_of_the_body_does_not_matter(dynamodb: Any) -> None:
    api = _api()
    assert _register(api, "key-3", json.dumps(APPOINTMENT_BODY)).status == 202
    spaced = json.dumps(dict(reversed(list(APPOINTMENT_BODY.items()))), indent=4)
    reply = _register(api, "key-3", spaced)
    assert reply.status == 202 and reply.headers[REPLAYED] == "true"


def test_the_same_key_on_another_id_or_route_is_another_request(dynamodb: Any) -> None:
    api = _api()
    assert _register(api, "shared", appt="A-200").status == 202
    other_id = _register(api, "shared", appt="A-201")
    assert other_id.status == 202 and REPLAYED not in other_id.headers
    assert api.world.appointments.get("A-201") is not None
    other_route = _sync(api, "shared", appt="A-200")
    assert other_route.status == 202 and REPLAYED not in other_route.headers


def test_failures_are_not_stored_so_a_retry_runs_again(dynamodb: Any) -> None:
    api = _api()
    _sync(api, "key-4").assert_problem(404, "NOT_REGISTERED")
    assert _register(api).status == 202
    retried = _sync(api, "key-4")
    assert retried.status == 202 and REPLAYED not in retried.headers


def test_validation_failures_are_not_stored(dynamodb: Any) -> None:
    api = _api()
    _register(api, "key-5", {**APPOINTMENT_BODY, "bogus": 1}).assert_problem(
        422, "VALIDATION_FAILED"
    )
    assert _register(api, "key-5").status == 202
    assert dynamodb.scan(TableName=TABLE)["Count"] == 1


@pytest.mark.parametrize("key", ["", "x" * 256, "with space", "naïve"])
def test_an_unusable_key_is_422_naming_the_header(dynamodb: Any, key: str) -> None:
    api = _api()
    reply = api.call(
        "PUT",
        "/patients/{patientId}",
        roles=["ehr"],
        path_params={"patientId": "P-100"},
        body=PATIENT_BODY,
        headers={"Idempotency-Key": key},
    )
    body = reply.assert_problem(422, "VALIDATION_FAILED")
    assert body["errors"][0]["field"] == "Idempotency-Key"


def test_reads_ignore_the_header(dynamodb: Any) -> None:
    api = _api()
    reply = api.call("GET", "/sync/dashboard", roles=["admin"], headers={"Idempotency-Key": "k"})
    assert reply.status == 200 and REPLAYED not in reply.headers
    assert dynamodb.scan(TableName=TABLE)["Count"] == 0


def test_a_repeat_while_the_first_still_runs_is_409(dynamodb: Any) -> None:
    api = _api()
    seen: list[dict[str, Any]] = []
    original = api.services.admin.test_connection

    def slow_connection_test() -> Any:
        # While the route runs, its record is INPROGRESS: keep what a concurrent retry sees.
        seen.extend(dynamodb.scan(TableName=TABLE)["Items"])
        return original()

    api.services.admin.test_connection = slow_connection_test  # type: ignore[method-assign]
    first = api.call("POST", "/settings/test-connection", headers={"Idempotency-Key": "slow"})
    assert first.status == 200
    assert [item["status"]["S"] for item in seen] == ["INPROGRESS"]
    assert "inProgressExpiresAt" in seen[0]  # a crashed request frees its key soon
    dynamodb.put_item(TableName=TABLE, Item=seen[0])  # the first request, still running
    retry = api.call("POST", "/settings/test-connection", headers={"Idempotency-Key": "slow"})
    retry.assert_problem(409, "IDEMPOTENCY_KEY_IN_PROGRESS")
    assert retry.headers["retry-after"] == "2"


def test_an_unavailable_store_is_503_not_an_unprotected_run(dynamodb: Any) -> None:
    api = _api(table="no-such-table")
    _register(api)  # no header: not affected
    depth = api.world.queue.depth()
    reply = _sync(api, "key-6")
    reply.assert_problem(503, "IDEMPOTENCY_UNAVAILABLE")
    assert reply.headers["retry-after"] == "5"
    assert api.world.queue.depth() == depth


@pytest.mark.parametrize("route", MUTATING, ids=route_id)
def test_every_mutating_route_honours_the_key(dynamodb: Any, route: RouteSpec) -> None:
    api = _api()
    _register(api)
    sample = sample_for(route)
    role = sorted(route.roles or ["admin"])[0]

    def send() -> Reply:
        return api.call(
            route.method,
            route.path,
            roles=[role],
            path_params=sample.path_params,
            body=sample.body,
            query=sample.query,
            headers={"Idempotency-Key": f"every-{route_id(route)}"},
        )

    first, second = send(), send()
    assert first.status == second.status
    if first.status < 300:
        assert second.headers.get(REPLAYED) == "true"
        assert second.text == first.text
    else:  # failures are not stored: the repeat ran again and failed the same way
        assert REPLAYED not in second.headers


def test_a_key_is_scoped_to_its_caller(dynamodb: Any) -> None:
    """Another caller reusing a key (by chance or on purpose) runs its own request and never
    receives the first caller's stored answer."""
    api = _api()
    assert _register(api).status == 202
    first = api.call(
        "POST",
        "/appointments/{appointmentId}/sync",
        roles=["billing"],
        jwt_claims=claims(["billing"], sub="alice"),
        path_params={"appointmentId": "A-200"},
        headers={"Idempotency-Key": "shared-key"},
    )
    depth = api.world.queue.depth()
    other = api.call(
        "POST",
        "/appointments/{appointmentId}/sync",
        roles=["billing"],
        jwt_claims=claims(["billing"], sub="mallory"),
        path_params={"appointmentId": "A-200"},
        headers={"Idempotency-Key": "shared-key"},
    )
    assert first.status == other.status == 202
    assert REPLAYED not in other.headers
    assert api.world.queue.depth() == depth + 1  # it ran
