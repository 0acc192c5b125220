"""Development tokens: one access token per role, from the local OIDC issuer.

Each role has a user at the issuer (`dev-admin`, `dev-billing`, …) with the claims the product
reads (`roles`, `practice`). `sign_in` walks the authorization-code flow with PKCE over HTTP,
as the admin UI does in a browser, and keeps the access token (an RS256 JWT the local
authorizer checks against the issuer's JWKS). The EHR is a machine user here: the issuer
package has no client-credentials grant (docs/decisions.md).

`python -m local.runner.tokens [--issuer URL]` prints fresh ones from a running `make run` as
shell lines (`export AMDSYNC_TOKEN_ADMIN=...`), so `eval "$(python -m local.runner.tokens)"`
puts them in a shell. They are dev tokens for fake demo data: printing them is fine.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import secrets
from collections.abc import Mapping
from typing import Any

import httpx

DEV_ROLES = ("admin", "billing", "provider", "ehr")
DEMO_PRACTICE = "main"  # the template's PracticeId default
DEV_CLIENT_ID = "amdsync-local"  # the local audience: the UI's client and the EHR's
DEFAULT_ISSUER = "http://127.0.0.1:9400"
# Where the issuer sends the code; never fetched (the flow stops at the redirect).
_REDIRECT_URI = "http://127.0.0.1/amdsync-dev-tokens"
_TIMEOUT_SECONDS = 30.0


class SignInError(RuntimeError):
    """The issuer did not hand out a token (the message names the step, never a secret)."""


def dev_subject(role: str) -> str:
    return f"dev-{role}"


def dev_users(practice: str = DEMO_PRACTICE) -> dict[str, dict[str, Any]]:
    """The issuer's users: subject -> claims, one per development role."""
    return {dev_subject(role): {"roles": [role], "practice": practice} for role in DEV_ROLES}


def register_user(issuer: str, subject: str, claims: Mapping[str, Any]) -> None:
    """Create or replace a user at the issuer (the package's `PUT /users/<sub>`)."""
    response = httpx.put(f"{issuer.rstrip('/')}/users/{subject}", json=dict(claims), timeout=10)
    response.raise_for_status()


def pkce_pair() -> tuple[str, str]:
    """A PKCE verifier and its S256 challenge (RFC 7636)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def sign_in(issuer: str, subject: str, client_id: str = DEV_CLIENT_ID) -> dict[str, Any]:
    """The token response for `subject`, by the authorization-code flow with PKCE."""
    with httpx.Client(timeout=_TIMEOUT_SECONDS) as http:
        config = http.get(issuer.rstrip("/") + "/.well-known/openid-configuration").json()
        verifier, challenge = pkce_pair()
        state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        query = {
            "client_id": client_id,
            "redirect_uri": _REDIRECT_URI,
            "response_type": "code",
            "scope": "openid",
            "state": state,
            "nonce": nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        # The issuer's sign-in form, submitted as its "predefined user" button does.
        answer = http.post(config["authorization_endpoint"], params=query, data={"sub": subject})
        location = httpx.URL(answer.headers.get("location", ""))
        if answer.status_code != 302 or location.params.get("state") != state:
            raise SignInError(f"authorization for {subject} failed ({answer.status_code})")
        form = {
            "grant_type": "authorization_code",
            "code": location.params.get("code", ""),
            "redirect_uri": _REDIRECT_URI,
            "client_id": client_id,
            "code_verifier": verifier,
        }
        response = http.post(config["token_endpoint"], data=form)
        if response.status_code != 200:
            raise SignInError(f"token request for {subject} failed ({response.status_code})")
        tokens: dict[str, Any] = response.json()
        return tokens


def dev_tokens(issuer: str, client_id: str = DEV_CLIENT_ID) -> dict[str, str]:
    """Role name -> access token, for each development role."""
    return {
        role: sign_in(issuer, dev_subject(role), client_id)["access_token"] for role in DEV_ROLES
    }


def export_lines(tokens: Mapping[str, str]) -> list[str]:
    return [f"export AMDSYNC_TOKEN_{role.upper()}={token}" for role, token in tokens.items()]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m local.runner.tokens", description=__doc__)
    parser.add_argument("--issuer", default=DEFAULT_ISSUER, help="the running local issuer")
    args = parser.parse_args(argv)
    for line in export_lines(dev_tokens(args.issuer)):
        print(line)


if __name__ == "__main__":
    main()
