"""Development tokens: one HS256 JWT per role, accepted by the local JWT authorizer only.

`python -m local.runner.tokens` prints them as shell lines (`export AMDSYNC_TOKEN_ADMIN=...`),
so `eval "$(python -m local.runner.tokens)"` puts them in a shell. They are dev tokens for fake
demo data, signed with a secret that exists only in this repository: printing them is fine.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

import jwt

from local.runner.jwt_authorizer import JwtSettings

DEV_ROLES = ("admin", "billing", "provider", "ehr")
DEMO_PRACTICE = "main"  # the template's PracticeId default
DEFAULT_LIFETIME_SECONDS = 12 * 3600


def make_token(
    settings: JwtSettings,
    *,
    roles: Iterable[str],
    subject: str,
    practice: str = DEMO_PRACTICE,
    lifetime_seconds: int = DEFAULT_LIFETIME_SECONDS,
    now: float | None = None,
) -> str:
    issued = int(time.time() if now is None else now)
    claims = {
        "sub": subject,
        "roles": list(roles),
        "practice": practice,
        "iss": settings.issuer,
        "aud": settings.audience,
        "iat": issued,
        "exp": issued + lifetime_seconds,
    }
    return jwt.encode(claims, settings.secret, algorithm="HS256")


def dev_tokens(settings: JwtSettings, now: float | None = None) -> dict[str, str]:
    """Role name -> token, for each development role."""
    return {
        role: make_token(settings, roles=[role], subject=f"dev-{role}", now=now)
        for role in DEV_ROLES
    }


def export_lines(tokens: dict[str, str]) -> list[str]:
    return [f"export AMDSYNC_TOKEN_{role.upper()}={token}" for role, token in tokens.items()]


def main() -> None:
    for line in export_lines(dev_tokens(JwtSettings())):
        print(line)


if __name__ == "__main__":
    main()
