"""The HttpApi JWT authorizer, locally: HS256 tokens signed with a development secret.

In AWS the authorizer checks the signature against the issuer's JWKS, `iss`, `aud` (or
`client_id`), `exp`, `nbf` and `iat`, then hands the claims to the function with every value
turned into a string. Arrays become `"[admin billing]"` (space-separated in brackets, no quotes),
numbers `"1795712400"`, booleans `"true"`: the product's role parser must accept both that string
and a real list. Only the signing method differs locally; everything else is mirrored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import jwt

# A fixed, obviously-local secret (>= 32 bytes for HS256). Never used outside the local stack.
DEV_JWT_SECRET = "amdsync-local-development-secret-not-for-aws"  # noqa: S105
DEV_JWT_ISSUER = "https://amdsync.local/dev-issuer"
DEV_JWT_AUDIENCE = "amdsync-local"


@dataclass(frozen=True)
class JwtSettings:
    secret: str = DEV_JWT_SECRET
    issuer: str = DEV_JWT_ISSUER
    audience: str = DEV_JWT_AUDIENCE
    leeway_seconds: int = 0


class JwtAuthorizer:
    def __init__(self, settings: JwtSettings) -> None:
        self.settings = settings

    def authorize(self, authorization: str | None) -> dict[str, str] | None:
        """The stringified claims of a valid `Bearer <jwt>` header value, else None."""
        if not authorization:
            return None
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        try:
            claims = jwt.decode(
                token.strip(),
                self.settings.secret,
                algorithms=["HS256"],
                issuer=self.settings.issuer,
                leeway=self.settings.leeway_seconds,
                options={"require": ["exp", "iss"], "verify_aud": False},
            )
        except jwt.PyJWTError:
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
