"""The HTTP API surface of SPEC §4 as data: every route with the roles allowed to call it.

`template.yaml` declares one HttpApi event per entry and a test keeps the two identical, so a
route cannot be added, renamed or dropped in one place only. The resolver (functions/api) and the
role matrix test read this table too; the resolver loads a route's group (its module) from it.
"""

from dataclasses import dataclass
from enum import StrEnum

BASE_PATH = "/api/advancedmd"


class Role(StrEnum):
    ADMIN = "admin"
    BILLING = "billing"
    PROVIDER = "provider"
    EHR = "ehr"


# admin ⊇ billing ⊇ provider; `ehr` is the EHR's system account and stands apart.
PROVIDER_PLUS = frozenset({Role.PROVIDER, Role.BILLING, Role.ADMIN})
BILLING_PLUS = frozenset({Role.BILLING, Role.ADMIN})
ADMIN_ONLY = frozenset({Role.ADMIN})
EHR_ONLY = frozenset({Role.EHR})
BILLING_PLUS_OR_EHR = BILLING_PLUS | EHR_ONLY


@dataclass(frozen=True)
class RouteSpec:
    method: str
    path: str  # relative to BASE_PATH, with {param} placeholders as API Gateway writes them
    roles: frozenset[Role] | None  # None = public (no token needed)
    documented: bool = True  # False: kept out of the OpenAPI document (the UI's HTML/assets)
    # The amdsync.web module whose router serves the route, imported on the route's first
    # request (a cold start loads no route group it does not need); None = the resolver's own.
    group: str | None = None

    @property
    def full_path(self) -> str:
        return BASE_PATH + self.path


API_ROUTES: tuple[RouteSpec, ...] = (
    # From the seed plan (paths must exist exactly).
    RouteSpec("GET", "/patients/{patientId}/sync-status", PROVIDER_PLUS, group="api_records"),
    RouteSpec("POST", "/patients/{patientId}/sync", BILLING_PLUS_OR_EHR, group="api_records"),
    RouteSpec("GET", "/patients/{patientId}/sync-logs", BILLING_PLUS, group="api_records"),
    RouteSpec(
        "GET", "/appointments/{appointmentId}/sync-status", PROVIDER_PLUS, group="api_records"
    ),
    RouteSpec(
        "POST", "/appointments/{appointmentId}/sync", BILLING_PLUS_OR_EHR, group="api_records"
    ),
    RouteSpec("POST", "/appointments/bulk-sync", BILLING_PLUS, group="api_sync"),
    RouteSpec("GET", "/appointments/bulk-sync/{jobId}", BILLING_PLUS, group="api_sync"),
    RouteSpec("POST", "/appointments/pull-updates", BILLING_PLUS, group="api_sync"),
    RouteSpec("GET", "/appointments/pull-updates/{pullId}", BILLING_PLUS, group="api_sync"),
    # Cancelling a running bulk job (SPEC §6: bulk sync "can be cancelled").
    RouteSpec("POST", "/appointments/bulk-sync/{jobId}/cancel", BILLING_PLUS, group="api_sync"),
    RouteSpec("GET", "/sync/dashboard", ADMIN_ONLY, group="api_admin"),
    RouteSpec("GET", "/sync/logs", ADMIN_ONLY, group="api_admin"),
    RouteSpec("GET", "/sync/stats", ADMIN_ONLY, group="api_admin"),
    # Needed for a stand-alone service.
    RouteSpec("PUT", "/patients/{patientId}", EHR_ONLY, group="api_records"),
    RouteSpec("PUT", "/appointments/{appointmentId}", EHR_ONLY, group="api_records"),
    RouteSpec(
        "POST", "/appointments/{appointmentId}/status", BILLING_PLUS_OR_EHR, group="api_records"
    ),
    RouteSpec("GET", "/appointments", BILLING_PLUS, group="api_sync"),
    RouteSpec("GET", "/visits/{visitId}", BILLING_PLUS, group="api_sync"),
    RouteSpec("GET", "/changes", EHR_ONLY, group="api_sync"),
    RouteSpec("GET", "/conflicts", ADMIN_ONLY, group="api_admin"),
    RouteSpec("POST", "/conflicts/{conflictId}/resolve", ADMIN_ONLY, group="api_admin"),
    RouteSpec("GET", "/settings", ADMIN_ONLY, group="api_admin"),
    RouteSpec("PUT", "/settings", ADMIN_ONLY, group="api_admin"),
    RouteSpec(
        "PATCH", "/settings", ADMIN_ONLY, group="api_admin"
    ),  # RFC 7396 merge patch (SPEC §9.1)
    RouteSpec("POST", "/settings/test-connection", ADMIN_ONLY, group="api_admin"),
    RouteSpec("GET", "/providers", BILLING_PLUS, group="api_admin"),
    RouteSpec("GET", "/facilities", BILLING_PLUS, group="api_admin"),
    RouteSpec("GET", "/mappings/{kind}", ADMIN_ONLY, group="api_admin"),
    RouteSpec("PUT", "/mappings/{kind}/{ehrId}", ADMIN_ONLY, group="api_admin"),
    RouteSpec("GET", "/health", None),
    RouteSpec("GET", "/openapi.json", None),
    # Operator features (SPEC §9.4): failed work and the audit trail.
    RouteSpec("GET", "/audit", ADMIN_ONLY, group="api_audit"),
    RouteSpec("GET", "/sync/failed", BILLING_PLUS, group="api_failed"),
    RouteSpec("POST", "/sync/failed/{jobId}/retry", BILLING_PLUS, group="api_failed"),
    RouteSpec("POST", "/sync/failed/retry-all", ADMIN_ONLY, group="api_failed"),
    RouteSpec("DELETE", "/sync/failed/{jobId}", ADMIN_ONLY, group="api_failed"),
    # What the admin UI's "Sync all patients" button calls (one request, not one per patient).
    RouteSpec("POST", "/patients/sync-all", BILLING_PLUS, group="api_ui"),
    # Signed webhooks (SPEC §9.4; web/api_webhooks.py).
    RouteSpec("GET", "/webhooks", ADMIN_ONLY, group="api_webhooks"),
    RouteSpec("PUT", "/webhooks/{webhookId}", ADMIN_ONLY, group="api_webhooks"),
    RouteSpec("DELETE", "/webhooks/{webhookId}", ADMIN_ONLY, group="api_webhooks"),
    RouteSpec("GET", "/webhooks/{webhookId}/deliveries", ADMIN_ONLY, group="api_webhooks"),
    RouteSpec("POST", "/webhooks/{webhookId}/test", ADMIN_ONLY, group="api_webhooks"),
    # The console's role-aware pages (web/api_console.py): who am I and where do I land, a
    # provider's day from our own records, the queue and its wait for billing staff.
    RouteSpec("GET", "/me", PROVIDER_PLUS, group="api_console"),
    RouteSpec("GET", "/schedule", PROVIDER_PLUS, group="api_console"),
    RouteSpec("GET", "/sync/status", BILLING_PLUS, group="api_console"),
    # The admin UI and the embeddable widgets (web/api_ui.py): HTML shells and static assets
    # that hold no data; their script calls the routes above with the user's bearer token.
    RouteSpec("GET", "/ui/{page}", None, documented=False, group="api_ui"),
    RouteSpec("GET", "/ui/static/{file}", None, documented=False, group="api_ui"),
    RouteSpec("GET", "/widgets/{name}", None, documented=False, group="api_ui"),
)


def is_allowed(route: RouteSpec, roles: frozenset[str]) -> bool:
    """True when any of the caller's roles may call the route (public routes allow everyone)."""
    if route.roles is None:
        return True
    return any(role in route.roles for role in roles)
