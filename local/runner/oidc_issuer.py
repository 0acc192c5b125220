"""The local OIDC issuer: `oidc-provider-mock` on loopback, in a thread of the runner.

The package is a real OpenID provider (discovery, JWKS, authorization code, refresh, end
session; RS256 with a key made at start), built on Authlib. Two pieces of configuration make
it issue what a deployed issuer (Cognito) issues, both through Authlib's own hooks:

- access tokens are RS256 JWTs (Authlib's RFC 9068 generator) carrying the user's claims
  (`roles`, `practice`), signed with the provider's key; the package alone issues opaque access
  tokens, and a refresh would then yield nothing API Gateway could verify;
- CORS (flask-cors), so the admin UI's page can read discovery and call the token endpoint
  from its own origin, as it does with Cognito.

- public clients with PKCE: the package's code grant wants a client secret and ignores
  `code_challenge`; the admin UI (like Cognito's app client) has no secret and must prove the
  verifier. Its grant, subclassed with Authlib's `CodeChallenge(required=True)` and the `none`
  client authentication, is what the package registers (`_public_clients_with_pkce`).

The package has no client-credentials grant, so the EHR signs in as a machine user
(docs/decisions.md). Users are the package's "predefined users": one per role, shown as
buttons on its sign-in page.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, ClassVar

import flask
import oidc_provider_mock
import werkzeug.serving
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from flask_cors import CORS
from joserfc.jwk import KeySet
from oidc_provider_mock import _app as mock_app
from oidc_provider_mock._storage import storage

# Claims the token itself sets; a user's claims never override them.
_REGISTERED = frozenset({"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "client_id", "scope"})
DEFAULT_LIFETIME = timedelta(hours=12)


@dataclass(frozen=True)
class _Subject:
    sub: str
    claims: Mapping[str, Any]

    def get_user_id(self) -> str:
        return self.sub


class _ClaimsInAccessTokens(JWTBearerTokenGenerator):  # type: ignore[misc]
    """RFC 9068 access tokens from the mock's own signing key, with the user's claims."""

    def __init__(self, lifetime: timedelta) -> None:
        super().__init__(issuer="", expires_generator=self._expires_in)
        self._lifetime = int(lifetime.total_seconds())

    def _expires_in(self, client: Any, grant_type: str) -> int:
        # As the package answers in `expires_in`: its lifetime for a sign-in, Authlib's
        # default (an hour) for a refresh.
        del client
        if grant_type == "authorization_code":
            return self._lifetime
        return int(JWTBearerTokenGenerator.DEFAULT_EXPIRES_IN)

    @property
    def issuer(self) -> str:
        # The mock names itself after the URL it is reached at; the tokens must agree.
        return str(flask.request.host_url).rstrip("/")

    @issuer.setter
    def issuer(self, value: str) -> None:
        del value

    def access_token_generator(self, client: Any, grant_type: str, user: Any, scope: str) -> str:
        # Authlib asks the user for `get_user_id()`; the package's users carry `sub`.
        subject = _Subject(user.sub, user.claims) if user is not None else None
        token: str = super().access_token_generator(client, grant_type, subject, scope)
        return token

    def get_jwks(self) -> KeySet:
        # A key set, not the key: joserfc then names the key's `kid` in the token's header,
        # which API Gateway needs to pick the key from the JWKS.
        return KeySet.import_key_set({"keys": [storage.jwk.as_dict(is_private=True)]})

    def get_extra_claims(
        self, client: Any, grant_type: str, user: Any, scope: str
    ) -> dict[str, Any]:
        del client, grant_type, scope
        claims: Mapping[str, Any] = user.claims if user is not None else {}
        return {name: value for name, value in claims.items() if name not in _REGISTERED}


class _RememberedChallenge(CodeChallenge):  # type: ignore[misc]
    """Authlib's PKCE check, reading the challenge the grant noted beside the code (the
    package's stored code has no field for it)."""

    def __init__(self, challenges: dict[str, tuple[str, str | None]]) -> None:
        super().__init__(required=True)
        self._challenges = challenges

    def get_authorization_code_challenge(self, authorization_code: Any) -> str | None:
        return self._challenges.get(authorization_code.code, ("", None))[0] or None

    def get_authorization_code_challenge_method(self, authorization_code: Any) -> str | None:
        return self._challenges.get(authorization_code.code, ("", None))[1]


class _PkceCodeGrant(mock_app.AuthorizationCodeGrant):  # type: ignore[misc]
    """The package's code grant, for public clients that must prove a PKCE verifier."""

    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = [
        "none",
        "client_secret_basic",
        "client_secret_post",
    ]
    # Codes are random and single-use: one table for every app in the process will do.
    challenges: ClassVar[dict[str, tuple[str, str | None]]] = {}

    def __init__(self, request: Any, server: Any) -> None:
        super().__init__(request, server)
        _RememberedChallenge(self.challenges)(self)

    def save_authorization_code(self, code: str, request: Any) -> None:
        super().save_authorization_code(code, request)
        data = request.payload.data
        self.challenges[code] = (data.get("code_challenge", ""), data.get("code_challenge_method"))

    def delete_authorization_code(self, authorization_code: Any) -> None:
        super().delete_authorization_code(authorization_code)
        self.challenges.pop(authorization_code.code, None)


class _PublicRefreshGrant(mock_app.RefreshTokenGrant):  # type: ignore[misc]
    """The package's refresh grant, for public clients (no secret), as Cognito's app client."""

    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = _PkceCodeGrant.TOKEN_ENDPOINT_AUTH_METHODS


def _public_clients_with_pkce() -> None:
    """Make the package register our grants (it looks its grant classes up by name when an
    app is set up, and its token endpoint checks requests against the same names). Idempotent;
    the version is pinned, and tests/integration/runner/test_oidc_issuer.py fails if this stops
    holding (a code exchange without the verifier is refused, a public refresh works)."""
    mock_app.AuthorizationCodeGrant = _PkceCodeGrant
    mock_app.RefreshTokenGrant = _PublicRefreshGrant


def issuer_app(users: Mapping[str, Mapping[str, Any]], lifetime: timedelta) -> flask.Flask:
    """The provider's WSGI app: `users` maps each predefined subject to its claims."""
    _public_clients_with_pkce()
    # Named like the package's own app: Flask finds the package's page templates by it.
    app = flask.Flask(mock_app.__name__)
    app.config["OAUTH2_ACCESS_TOKEN_GENERATOR"] = _ClaimsInAccessTokens(
        lifetime
    ).access_token_generator
    predefined = [
        oidc_provider_mock.User(sub=sub, claims=dict(claims)) for sub, claims in users.items()
    ]
    oidc_provider_mock.init_app(
        app, require_nonce=True, access_token_max_age=lifetime, user_claims=predefined
    )
    CORS(app)  # the UI's page calls discovery and the token endpoint from another origin
    return app


@dataclass
class LocalIssuer:
    """A running provider. `start()` binds (port 0 picks a free one); `stop()` closes it."""

    users: Mapping[str, Mapping[str, Any]]
    host: str = "127.0.0.1"
    port: int = 9400
    lifetime: timedelta = DEFAULT_LIFETIME
    _server: werkzeug.serving.BaseWSGIServer | None = field(default=None, init=False, repr=False)
    _thread: threading.Thread | None = field(default=None, init=False, repr=False)

    @property
    def url(self) -> str:
        """The issuer identifier (`iss`), which is also where discovery lives."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> LocalIssuer:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        app = issuer_app(self.users, self.lifetime)
        server = werkzeug.serving.make_server(self.host, self.port, app, threaded=True)
        self._server = server
        self.port = server.server_port
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="oidc-issuer"
        )
        self._thread.daemon = True
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)
        self._server, self._thread = None, None
