"""The local JWT authorizer against a real issuer (oidc-provider-mock on loopback): what API
Gateway's HttpApi JWT authorizer lets through, it lets through with the same claims; a wrong
audience, an expired token, another key's signature, another issuer, `nbf` in the future and
the old HS256 development tokens are refused with API Gateway's 401."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from local.runner.function_specs import HttpRoute
from local.runner.http_front import ApiGateway, ApiGatewaySettings
from local.runner.httpapi_events import HttpRequest, RouteTable
from local.runner.jwt_authorizer import JwtAuthorizer, JwtSettings
from local.runner.oidc_issuer import LocalIssuer
from local.runner.tokens import (
    DEMO_PRACTICE,
    DEV_CLIENT_ID,
    dev_tokens,
    dev_users,
    pkce_pair,
    register_user,
    sign_in,
)
from local.runner.tokens import main as tokens_main

BASE = "/api/advancedmd"
ROUTE = HttpRoute("GET", f"{BASE}/things/{{thingId}}", public=False, function="Echo")
Front = Callable[[str | None], tuple[int, Any]]


@pytest.fixture(scope="module")
def issuer() -> Iterator[LocalIssuer]:
    started = LocalIssuer(dev_users(), port=0).start()
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="module")
def brief_issuer() -> Iterator[LocalIssuer]:
    """An issuer whose tokens live one second, for the expiry check."""
    started = LocalIssuer(dev_users(), port=0, lifetime=timedelta(seconds=1)).start()
    try:
        yield started
    finally:
        started.stop()


def front_for(issuer_url: str) -> Front:
    """The local API Gateway trusting `issuer_url`; its one route echoes the claims."""

    def echo_claims(_function: str, event: dict[str, Any]) -> dict[str, Any]:
        claims = event["requestContext"]["authorizer"]["jwt"]["claims"]
        return {"statusCode": 200, "body": json.dumps(claims)}

    gateway = ApiGateway(
        RouteTable([ROUTE]),
        JwtAuthorizer(JwtSettings(issuer=issuer_url, audience=DEV_CLIENT_ID)),
        echo_claims,
        ApiGatewaySettings(base_path=BASE, stage="dev"),
    )

    def call(token: str | None) -> tuple[int, Any]:
        headers = [("Authorization", f"Bearer {token}")] if token else []
        request = HttpRequest("GET", f"{BASE}/things/T-1", headers, b"", "127.0.0.1")
        response = gateway.handle(request)
        return response.status, json.loads(response.body)

    return call


def assert_refused(front: Front, token: str | None) -> None:
    assert front(token) == (401, {"message": "Unauthorized"})


def resigned(token: str, key: Any, algorithm: str = "RS256", **changes: Any) -> str:
    """The token's header and claims (with `changes`), signed again with another key."""
    header = jwt.get_unverified_header(token)
    claims = {**jwt.decode(token, options={"verify_signature": False}), **changes}
    extra = {name: value for name, value in header.items() if name not in {"alg"}}
    return jwt.encode(claims, key, algorithm=algorithm, headers=extra)


def test_a_token_from_the_issuer_passes_with_its_claims_as_api_gateway_passes_them(
    issuer: LocalIssuer,
) -> None:
    register_user(issuer.url, "two-roles", {"roles": ["admin", "billing"], "practice": "main"})
    token = sign_in(issuer.url, "two-roles")["access_token"]
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    status, claims = front_for(issuer.url)(token)
    assert status == 200
    assert claims["roles"] == "[admin billing]"  # arrays flattened, as API Gateway does
    assert claims["practice"] == DEMO_PRACTICE
    assert claims["sub"] == "two-roles"
    assert claims["iss"] == issuer.url
    assert claims["aud"] == DEV_CLIENT_ID
    assert claims["exp"].isdigit() and int(claims["exp"]) > time.time()


def test_every_dev_role_has_a_token_the_authorizer_accepts(issuer: LocalIssuer) -> None:
    front = front_for(issuer.url)
    tokens = dev_tokens(issuer.url)
    assert list(tokens) == ["admin", "billing", "provider", "ehr"]
    for role, token in tokens.items():
        status, claims = front(token)
        assert (status, claims["roles"], claims["sub"]) == (200, f"[{role}]", f"dev-{role}")


def test_a_token_for_another_audience_is_refused(issuer: LocalIssuer) -> None:
    token = sign_in(issuer.url, "dev-billing", client_id="someone-else")["access_token"]
    assert jwt.decode(token, options={"verify_signature": False})["aud"] == "someone-else"
    assert_refused(front_for(issuer.url), token)


def test_an_expired_token_is_refused(brief_issuer: LocalIssuer) -> None:
    token = sign_in(brief_issuer.url, "dev-billing")["access_token"]
    expiry = jwt.decode(token, options={"verify_signature": False})["exp"]
    deadline = time.monotonic() + 10
    while time.time() <= expiry and time.monotonic() < deadline:
        time.sleep(0.05)  # a condition wait: until the token's own `exp` has passed
    assert time.time() > expiry
    assert_refused(front_for(brief_issuer.url), token)


def test_a_token_signed_by_another_key_is_refused(issuer: LocalIssuer) -> None:
    good = sign_in(issuer.url, "dev-admin")["access_token"]
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = resigned(good, other)  # same kid, claims and issuer; another key's signature
    assert jwt.get_unverified_header(forged)["kid"] == jwt.get_unverified_header(good)["kid"]
    front = front_for(issuer.url)
    assert front(good)[0] == 200
    assert_refused(front, forged)


def test_a_token_from_another_issuer_is_refused(issuer: LocalIssuer) -> None:
    other = LocalIssuer(dev_users(), port=0).start()
    try:
        token = sign_in(other.url, "dev-admin")["access_token"]
    finally:
        other.stop()
    assert_refused(front_for(issuer.url), token)


def test_the_old_hs256_development_tokens_are_refused(issuer: LocalIssuer) -> None:
    good = sign_in(issuer.url, "dev-admin")["access_token"]
    secret = "amdsync-local-development-secret-not-for-aws"
    assert_refused(front_for(issuer.url), resigned(good, secret, algorithm="HS256"))


def test_garbage_a_missing_token_and_no_bearer_scheme_are_refused(issuer: LocalIssuer) -> None:
    front = front_for(issuer.url)
    assert_refused(front, None)
    assert_refused(front, "not-a-jwt")
    good = sign_in(issuer.url, "dev-admin")["access_token"]
    authorizer = JwtAuthorizer(JwtSettings(issuer=issuer.url, audience=DEV_CLIENT_ID))
    assert authorizer.authorize(f"Bearer {good}") is not None
    assert authorizer.authorize(good) is None  # the scheme is required
    assert authorizer.authorize(f"Basic {good}") is None


class _OwnKeys:
    """A key source for one key of the test's own (the issuer edge, for claims it never
    issues: `nbf` in the future)."""

    def __init__(self, key: rsa.RSAPrivateKey) -> None:
        self._public = key.public_key()

    def key_for(self, token: str) -> Any:
        del token
        return self._public


def test_a_token_not_valid_yet_is_refused_and_valid_once_nbf_passes() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    settings = JwtSettings(issuer="https://issuer.example", audience=DEV_CLIENT_ID)
    authorizer = JwtAuthorizer(settings, keys=_OwnKeys(key))  # type: ignore[arg-type]
    now = int(time.time())
    claims = {"iss": settings.issuer, "aud": DEV_CLIENT_ID, "sub": "u", "exp": now + 600}
    early = jwt.encode({**claims, "nbf": now + 300}, key, algorithm="RS256")
    ready = jwt.encode({**claims, "nbf": now - 5}, key, algorithm="RS256")
    assert authorizer.authorize(f"Bearer {early}") is None
    assert authorizer.authorize(f"Bearer {ready}") is not None
    no_exp = jwt.encode({k: v for k, v in claims.items() if k != "exp"}, key, algorithm="RS256")
    assert authorizer.authorize(f"Bearer {no_exp}") is None


def test_the_issuer_refuses_a_code_without_its_pkce_verifier(issuer: LocalIssuer) -> None:
    config = httpx.get(f"{issuer.url}/.well-known/openid-configuration").json()
    verifier, challenge = pkce_pair()
    redirect = "http://127.0.0.1/cb"
    query = {
        "client_id": DEV_CLIENT_ID,
        "redirect_uri": redirect,
        "response_type": "code",
        "scope": "openid",
        "state": "s",
        "nonce": "n",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    form = {"grant_type": "authorization_code", "redirect_uri": redirect}
    form["client_id"] = DEV_CLIENT_ID
    for wrong in ({}, {"code_verifier": pkce_pair()[0]}):
        answer = httpx.post(config["authorization_endpoint"], params=query, data={"sub": "u"})
        code = httpx.URL(answer.headers["location"]).params["code"]
        refused = httpx.post(config["token_endpoint"], data={**form, "code": code, **wrong})
        assert refused.status_code == 400, refused.text
    del verifier


def test_a_public_client_refreshes_into_a_token_the_authorizer_accepts(
    issuer: LocalIssuer,
) -> None:
    first = sign_in(issuer.url, "dev-billing")
    config = httpx.get(f"{issuer.url}/.well-known/openid-configuration").json()
    form = {
        "grant_type": "refresh_token",
        "refresh_token": first["refresh_token"],
        "client_id": DEV_CLIENT_ID,  # no secret: the UI is a public client
    }
    refreshed = httpx.post(config["token_endpoint"], data=form)
    assert refreshed.status_code == 200, refreshed.text
    token = refreshed.json()["access_token"]
    assert token != first["access_token"]
    status, claims = front_for(issuer.url)(token)
    assert (status, claims["roles"], claims["sub"]) == (200, "[billing]", "dev-billing")


def test_the_tokens_command_prints_one_export_per_role_from_the_running_issuer(
    issuer: LocalIssuer, capsys: pytest.CaptureFixture[str]
) -> None:
    tokens_main(["--issuer", issuer.url])
    lines = capsys.readouterr().out.splitlines()
    exports = dict(line.split("=", 1) for line in lines)
    assert list(exports) == [
        f"export AMDSYNC_TOKEN_{role}" for role in ("ADMIN", "BILLING", "PROVIDER", "EHR")
    ]
    front = front_for(issuer.url)
    for name, token in exports.items():
        status, claims = front(token)
        assert (status, claims["roles"]) == (200, f"[{name.rsplit('_', 1)[1].lower()}]")
