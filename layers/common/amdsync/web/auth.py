"""Who is calling: claims from the HttpApi JWT authorizer (or the local runner, which mirrors
it), roles from a configurable claim, and the route table's role check (401/403)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from amdsync.web.problems import Problem
from amdsync.web.routes import RouteSpec, is_allowed


@dataclass(frozen=True)
class Caller:
    subject: str
    roles: frozenset[str]
    practice: str | None
    source_ip: str | None = None
    user_agent: str | None = None

    @property
    def primary_role(self) -> str:
        for role in ("admin", "billing", "provider", "ehr"):
            if role in self.roles:
                return role
        return "none"


# API Gateway's JWT authorizer hands array claims to the function flattened into one string,
# `["admin", "billing"]` -> `[admin billing]` (payload 2.0); nothing else is read as a list.
_FLATTENED_LIST = re.compile(r"^\[([A-Za-z0-9_:-]+( [A-Za-z0-9_:-]+)*)?\]$")
# A client-credentials token has no user and so no groups: the EHR's machine client is known by
# the scope the stack's resource server grants it (template.yaml, EhrResourceServer). Exact
# scope strings only; a user token cannot carry it (the admin UI client may not request it).
SCOPE_ROLES = {"amdsync/ehr": "ehr"}


def parse_roles(value: Any) -> frozenset[str]:
    """The caller's roles, matched exactly (SPEC §9.5): a list claim, API Gateway's flattened
    form of one, or a single role. No case folding and no splitting on commas: `ADMIN` or
    `provider,admin` is not a role we know, so it grants nothing."""
    if value is None:
        return frozenset()
    if isinstance(value, list | tuple):
        return frozenset(v for v in value if isinstance(v, str))
    text = str(value)
    match = _FLATTENED_LIST.match(text)
    if match is not None:
        return frozenset(text[1:-1].split(" ")) - {""}
    return frozenset({text})


def scope_roles(value: Any) -> frozenset[str]:
    """The roles an OAuth `scope` claim (space-separated) grants through SCOPE_ROLES."""
    scopes = str(value).split() if isinstance(value, str) else []
    return frozenset(SCOPE_ROLES[scope] for scope in scopes if scope in SCOPE_ROLES)


def caller_from_event(event: Mapping[str, Any], role_claim: str) -> Caller | None:
    context = event.get("requestContext") or {}
    claims = ((context.get("authorizer") or {}).get("jwt") or {}).get("claims")
    if not claims:
        return None
    http = context.get("http") or {}
    return Caller(
        subject=str(claims.get("sub", "unknown"))[:128],
        roles=parse_roles(claims.get(role_claim)) | scope_roles(claims.get("scope")),
        # Absent: a single-practice deployment binds the request to its practice (SPEC §9.5).
        # Present, even empty, it must name this practice exactly.
        practice=str(claims["practice"]) if "practice" in claims else None,
        source_ip=http.get("sourceIp"),
        user_agent=(http.get("userAgent") or "")[:256] or None,
    )


def authorize(route: RouteSpec, caller: Caller | None, practice: Callable[[], str]) -> None:
    """Raise the right problem for a caller who may not use the route."""
    if route.roles is None:
        return
    if caller is None:
        raise Problem(401, "UNAUTHENTICATED", "A valid bearer token is required.")
    if not is_allowed(route, caller.roles):
        raise Problem(403, "FORBIDDEN", "Your role does not allow this action.")
    if caller.practice is not None and caller.practice != practice():
        raise Problem(403, "WRONG_PRACTICE", "The token belongs to another practice.")
