"""The console's pages as data: which role may use each page, and where each role lands.

One table, read by `GET /me` (the nav a signed-in user gets, decided here from the token's
roles) and by the HTML shells. A page is listed for a role only when that role may call the
API routes the page needs; add a page by adding its entry.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from amdsync.web.routes import ADMIN_ONLY, BILLING_PLUS, PROVIDER_PLUS, Role


@dataclass(frozen=True)
class NavEntry:
    page: str  # /ui/<page>
    label: str
    roles: frozenset[Role]


NAV: tuple[NavEntry, ...] = (
    NavEntry("my-day", "My day", PROVIDER_PLUS),
    NavEntry("sync-status", "Sync status", BILLING_PLUS),
    NavEntry("failed-work", "Failed work", BILLING_PLUS),
    NavEntry("dashboard", "Dashboard", ADMIN_ONLY),
    NavEntry("conflicts", "Conflicts", ADMIN_ONLY),
    NavEntry("mappings", "Mappings", ADMIN_ONLY),
    NavEntry("settings", "Settings", ADMIN_ONLY),
    NavEntry("webhooks", "Webhooks", ADMIN_ONLY),
    NavEntry("audit", "Audit trail", ADMIN_ONLY),
)

# The first page after sign-in, strongest role first: the page that answers the question the
# role signs in with (provider: are my appointments in AMD; billing: is the work moving).
LANDING: tuple[tuple[Role, str], ...] = (
    (Role.ADMIN, "dashboard"),
    (Role.BILLING, "sync-status"),
    (Role.PROVIDER, "my-day"),
)


def nav_for(roles: Iterable[str]) -> list[NavEntry]:
    held = set(roles)
    return [entry for entry in NAV if held & entry.roles]


def landing_for(roles: Iterable[str]) -> str | None:
    held = set(roles)
    return next((page for role, page in LANDING if role in held), None)
