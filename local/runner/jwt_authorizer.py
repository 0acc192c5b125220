"""The HttpApi JWT authorizer, locally: RS256 tokens checked against the issuer's JWKS.

As in AWS: the issuer's keys come from the `jwks_uri` its `/.well-known/openid-configuration`
names (fetched on first use, again when a token names a key id not seen yet); a token must be
signed by one of them (RS256, the header's `kid` picks it), name the configured issuer in `iss`
exactly, carry the audience in `aud` (or, for access tokens, `client_id`), and be within `exp`
and `nbf` (no leeway). Its claims reach the function with every value turned into a string:
arrays become `"[admin billing]"` (space-separated in brackets, no quotes), numbers
`"1795712400"`, booleans `"true"`; the product's role parser accepts both that string and a list.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any

import httpx
import jwt

ALGORITHMS = ["RS256"]  # what API Gateway's JWT authorizer verifies
_DISCOVERY_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class JwtSettings:
    issuer: str  # the issuer identifier, as the template's OidcIssuer parameter
    audience: str  # as the template's OidcAudience parameter
    leeway_seconds: int = 0


class IssuerKeys:
    """The issuer's signing keys, found through discovery, as API Gateway finds them."""

    def __init__(self, issuer: str) -> None:
        self._issuer = issuer
        self._client: jwt.PyJWKClient | None = None
        self._lock = threading.Lock()

    def key_for(self, token: str) -> Any:
        """The public key the token's `kid` names; PyJWTError if there is none."""
        return self._jwks().get_signing_key_from_jwt(token).key

    def _jwks(self) -> jwt.PyJWKClient:
        with self._lock:
            if self._client is None:
                url = self._issuer.rstrip("/") + "/.well-known/openid-configuration"
                response = httpx.get(url, timeout=_DISCOVERY_TIMEOUT_SECONDS)
                response.raise_for_status()
                self._client = jwt.PyJWKClient(response.json()["jwks_uri"], cache_keys=True)
            return self._client


class JwtAuthorizer:
    def __init__(self, settings: JwtSettings, keys: IssuerKeys | None = None) -> None:
        self.settings = settings
        self._keys = keys or IssuerKeys(settings.issuer)

    def authorize(self, authorization: str | None) -> dict[str, str] | None:
        """The stringified claims of a valid `Bearer <jwt>` header value, else None."""
        if not authorization:
            return None
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return None
        try:
            claims = jwt.decode(
                token,
                self._keys.key_for(token),
                algorithms=ALGORITHMS,
                issuer=self.settings.issuer,
                leeway=self.settings.leeway_seconds,
                options={
                    "require": ["exp", "iss"],
                    "verify_exp": True,
                    "verify_nbf": True,
                    "verify_aud": False,  # checked below: `aud` or `client_id`
                },
            )
        except (jwt.PyJWTError, httpx.HTTPError):
            return None
        if not self._audience_ok(claims):
            return None
        return {str(name): gateway_claim_value(value) for name, value in claims.items()}

    def _audience_ok(self, claims: dict[str, Any]) -> bool:
        # API Gateway accepts the audience in `aud` or, for access tokens, in `client_id`.
        audience = claims.get("aud", claims.get("client_id"))
        candidates = audience if isinstance(audience, list) else [audience]
        return self.settings.audience in candidates


def gateway_claim_value(value: Any) -> str:
    """A claim value as API Gateway's JWT authorizer passes it to the function."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + " ".join(gateway_claim_value(item) for item in value) + "]"
    if isinstance(value, dict):
        inner = " ".join(f"{key}:{gateway_claim_value(item)}" for key, item in value.items())
        return f"map[{inner}]"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str):
        return value
    return json.dumps(value)
