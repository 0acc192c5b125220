"""The local API Gateway: HttpApi v2 events, the JWT authorizer, and API Gateway's own answers."""

import http.client
import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from local.runner.function_host import FunctionError, FunctionPool, FunctionTimeout, HostConfig
from local.runner.function_specs import FunctionSpec, HttpRoute
from local.runner.http_front import ApiGateway, ApiGatewaySettings, HttpFront
from local.runner.httpapi_events import RouteTable
from local.runner.jwt_authorizer import JwtAuthorizer, gateway_claim_value
from local.runner.lambda_environment import lambda_environment
from local.runner.stack import LocalStack
from local.runner.tokens import DEMO_PRACTICE, export_lines, register_user, sign_in
from tests.integration.runner.conftest import quiet_config, running_stack

BASE = "/api/advancedmd"
ECHO_DIR = Path(__file__).parent / "echo_function"


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    yield from running_stack(quiet_config(run_http=True, functions=("ApiFunction",)))


@pytest.fixture(scope="module")
def echo_url(stack: LocalStack) -> Iterator[str]:
    """A front whose routes are served by tests/.../echo_function in a real host process."""
    routes = (
        HttpRoute("GET", f"{BASE}/things/{{thingId}}", public=False, function="Echo"),
        HttpRoute("POST", f"{BASE}/things/{{thingId}}", public=False, function="Echo"),
        HttpRoute("GET", f"{BASE}/open", public=True, function="Echo"),
    )
    spec = echo_spec(routes=routes)
    assert stack.moto is not None
    pool = FunctionPool(HostConfig(spec, lambda_environment(spec, stack.moto.environment())), 1)
    gateway = ApiGateway(
        RouteTable(routes),
        JwtAuthorizer(stack.jwt),
        lambda _name, event: pool.invoke(event),
        ApiGatewaySettings(base_path=BASE, stage="dev"),
    )
    front = HttpFront(gateway, port=0).start()
    try:
        yield front.url
    finally:
        front.stop()
        pool.stop()


def echo_spec(timeout_seconds: int = 5, routes: tuple[HttpRoute, ...] = ()) -> FunctionSpec:
    return FunctionSpec(
        logical_id="Echo",
        function_name="amdsync-echo-dev",
        code_dir=ECHO_DIR,
        handler="app.lambda_handler",
        timeout_seconds=timeout_seconds,
        memory_mb=128,
        environment={"POWERTOOLS_SERVICE_NAME": "echo"},
        routes=routes,
    )


def call(
    url: str, method: str = "GET", headers: dict[str, str] | None = None, body: bytes = b""
) -> tuple[int, dict[str, list[str]], bytes]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.netloc, timeout=30)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    connection.request(method, target, body=body or None, headers=headers or {})
    response = connection.getresponse()
    received: dict[str, list[str]] = {}
    for name, value in response.getheaders():
        received.setdefault(name.lower(), []).append(value)
    payload = response.read()
    connection.close()
    return response.status, received, payload


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_public_health_reaches_the_real_api_handler(stack: LocalStack) -> None:
    status, _, body = call(f"{stack.api_base_url}/health")
    assert (status, json.loads(body)) == (200, {"status": "ok"})


def test_public_openapi_document_is_served(stack: LocalStack) -> None:
    status, headers, body = call(f"{stack.api_base_url}/openapi.json")
    assert status == 200
    assert headers["content-type"] == ["application/json"]
    assert json.loads(body)["openapi"].startswith("3.1")


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer not-a-jwt"}, {"Authorization": "Basic dXNlcjpwdw=="}],
    ids=["missing", "garbage", "other-scheme"],
)
def test_protected_routes_answer_401_before_the_handler_runs(
    stack: LocalStack, headers: dict[str, str]
) -> None:
    status, _, body = call(f"{stack.api_base_url}/sync/dashboard", headers=headers)
    assert (status, body) == (401, b'{"message":"Unauthorized"}')


def test_a_valid_token_lets_the_request_through_to_the_handler(stack: LocalStack) -> None:
    # Whatever the product answers (its dashboard, or its resolver's 404 while a route is not
    # implemented yet), the answer comes from the api handler, not from the gateway's 401.
    token = stack.tokens["admin"]
    status, _, body = call(f"{stack.api_base_url}/sync/dashboard", headers=bearer(token))
    assert status in {200, 404}, body
    assert body != b'{"message":"Unauthorized"}'
    assert isinstance(json.loads(body), dict)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"{BASE}/no-such-route"),
        ("DELETE", f"{BASE}/settings"),
        ("GET", "/elsewhere"),
        ("GET", "/"),
        ("GET", f"{BASE}"),
    ],
)
def test_routes_not_in_the_template_are_api_gateway_404s(
    stack: LocalStack, method: str, path: str
) -> None:
    assert stack.http is not None
    status, _, body = call(stack.http.url + path, method=method)
    assert (status, body) == (404, b'{"message":"Not Found"}')


def test_a_token_without_bearer_is_refused(stack: LocalStack) -> None:
    headers = {"Authorization": stack.tokens["admin"]}  # a good token, but no scheme
    status, _, body = call(f"{stack.api_base_url}/sync/dashboard", headers=headers)
    assert (status, body) == (401, b'{"message":"Unauthorized"}')


def test_the_event_is_an_httpapi_v2_event_with_the_jwt_claims(
    stack: LocalStack, echo_url: str
) -> None:
    issuer = stack.jwt.issuer
    register_user(issuer, "dev-two-roles", {"roles": ["admin", "billing"], "practice": "main"})
    token = sign_in(issuer, "dev-two-roles")["access_token"]
    status, headers, body = call(
        f"{echo_url}{BASE}/things/T%2D7?b=2&a=1&a=3",
        method="POST",
        headers={
            **bearer(token),
            "Content-Type": "application/json",
            "Cookie": "s=1; t=2",
            "X-Multi": "v",
        },
        body=b'{"hello": "world"}',
    )
    assert status == 200
    assert headers["x-echo"] == ["1"]
    assert headers["set-cookie"] == ["a=1; Path=/", "b=2"]
    seen = json.loads(body)
    event = seen["event"]
    assert event["version"] == "2.0"
    assert event["routeKey"] == f"POST {BASE}/things/{{thingId}}"
    assert event["rawPath"] == f"/dev{BASE}/things/T%2D7"  # the named stage, as API Gateway
    assert event["requestContext"]["stage"] == "dev"
    assert event["requestContext"]["http"]["method"] == "POST"
    assert event["rawQueryString"] == "b=2&a=1&a=3"
    assert event["queryStringParameters"] == {"a": "1,3", "b": "2"}
    assert event["pathParameters"] == {"thingId": "T-7"}
    assert event["cookies"] == ["s=1", "t=2"]
    assert "cookie" not in event["headers"]
    assert event["headers"]["x-multi"] == "v"
    assert event["headers"]["authorization"] == f"Bearer {token}"
    assert event["body"] == '{"hello": "world"}'
    assert event["isBase64Encoded"] is False
    authorizer = event["requestContext"]["authorizer"]
    assert authorizer["jwt"]["scopes"] is None
    claims = authorizer["jwt"]["claims"]
    assert claims["roles"] == "[admin billing]"  # API Gateway stringifies arrays like this
    assert claims["sub"] == "dev-two-roles"
    assert claims["practice"] == DEMO_PRACTICE
    assert claims["exp"].isdigit()
    assert seen["service"] == "echo"
    assert seen["function_name"] == "amdsync-echo-dev"
    assert 0 < seen["remaining_ms"] <= 5000


def test_binary_bodies_arrive_base64_encoded_and_public_routes_carry_no_authorizer(
    echo_url: str,
) -> None:
    status, _, body = call(
        f"{echo_url}{BASE}/open", headers={"Content-Type": "image/png"}, body=b"\x89PNG"
    )
    assert status == 200
    event = json.loads(body)["event"]
    assert event["isBase64Encoded"] is True
    assert event["body"] == "iVBORw=="
    assert "authorizer" not in event["requestContext"]
    assert "pathParameters" not in event and "queryStringParameters" not in event


def test_a_handler_exception_is_a_500_like_api_gateway(stack: LocalStack, echo_url: str) -> None:
    token = stack.tokens["ehr"]
    status, _, body = call(f"{echo_url}{BASE}/things/boom", headers=bearer(token))
    assert (status, body) == (500, b'{"message":"Internal Server Error"}')
    # The host survives a handler exception and serves the next request.
    status, _, _ = call(f"{echo_url}{BASE}/things/fine", headers=bearer(token))
    assert status == 200


def test_hosts_are_separate_processes_with_only_their_own_environment(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNNER_ONLY_SETTING", "must-not-leak")
    spec = echo_spec(timeout_seconds=1)
    assert stack.moto is not None
    pool = FunctionPool(HostConfig(spec, lambda_environment(spec, stack.moto.environment())), 1)
    try:
        first = json.loads(pool.invoke({})["body"])
        assert first["pid"] not in stack.pools["ApiFunction"].pids()
        assert "RUNNER_ONLY_SETTING" not in first["environment_keys"]
        assert "AWS_ENDPOINT_URL" in first["environment_keys"]
        with pytest.raises(FunctionTimeout) as timed_out:
            pool.invoke({"sleep": 3})
        assert timed_out.value.error_type == "Sandbox.Timedout"
        with pytest.raises(FunctionError) as failed:
            pool.invoke({"raise": True})
        assert failed.value.payload["errorType"] == "ValueError"
        again = json.loads(pool.invoke({})["body"])
        assert again["pid"] != first["pid"]  # the timed-out host was replaced
    finally:
        pool.stop()


def test_literal_segments_win_over_parameters() -> None:
    routes = RouteTable(
        [
            HttpRoute("GET", f"{BASE}/appointments/{{appointmentId}}/sync-status", False, "Api"),
            HttpRoute("GET", f"{BASE}/appointments/bulk-sync/{{jobId}}", False, "Api"),
            HttpRoute("GET", f"{BASE}/files/{{proxy+}}", False, "Api"),
        ]
    )
    match = routes.match("GET", f"{BASE}/appointments/bulk-sync/sync-status")
    assert match is not None and match.path_parameters == {"jobId": "sync-status"}
    match = routes.match("GET", f"{BASE}/appointments/A-1/sync-status")
    assert match is not None and match.path_parameters == {"appointmentId": "A-1"}
    match = routes.match("GET", f"{BASE}/files/a/b/c")
    assert match is not None and match.path_parameters == {"proxy": "a/b/c"}
    assert routes.match("POST", f"{BASE}/appointments/A-1/sync-status") is None


def test_claim_values_are_stringified_as_api_gateway_does() -> None:
    assert gateway_claim_value(["admin", "billing"]) == "[admin billing]"
    assert gateway_claim_value(1795712400) == "1795712400"
    assert gateway_claim_value(True) == "true"
    assert gateway_claim_value("x") == "x"


def test_the_stack_signs_in_every_dev_role_at_its_issuer(stack: LocalStack) -> None:
    tokens = stack.tokens
    assert set(tokens) == {"admin", "billing", "provider", "ehr"}
    authorizer = JwtAuthorizer(stack.jwt)
    for role, token in tokens.items():
        claims = authorizer.authorize(f"Bearer {token}")
        assert claims is not None
        assert claims["roles"] == f"[{role}]"
        assert claims["practice"] == DEMO_PRACTICE
        assert claims["iss"] == stack.jwt.issuer
        assert {"sub", "roles", "practice", "exp", "iss", "aud"} <= set(claims)
    lines = export_lines(tokens)
    assert lines[0].startswith("export AMDSYNC_TOKEN_ADMIN=ey")
    assert [line.split("=")[0] for line in lines] == [
        "export AMDSYNC_TOKEN_ADMIN",
        "export AMDSYNC_TOKEN_BILLING",
        "export AMDSYNC_TOKEN_PROVIDER",
        "export AMDSYNC_TOKEN_EHR",
    ]
