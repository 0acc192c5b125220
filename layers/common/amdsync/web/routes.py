"""The HTTP API surface of SPEC §4 as data: every route with the roles allowed to call it.

`template.yaml` declares one HttpApi event per entry and a test keeps the two identical, so a
route cannot be added, renamed or dropped in one place only. The resolver (functions/api) and the
role matrix test read this table too.
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

    @property
    def full_path(self) -> str:
        return BASE_PATH + self.path


API_ROUTES: tuple[RouteSpec, ...] = (
    # From the seed plan (paths must exist exactly).
    RouteSpec("GET", "/patients/{patientId}/sync-status", PROVIDER_PLUS),
    RouteSpec("POST", "/patients/{patientId}/sync", BILLING_PLUS_OR_EHR),
    RouteSpec("GET", "/patients/{patientId}/sync-logs", BILLING_PLUS),
    RouteSpec("GET", "/appointments/{appointmentId}/sync-status", PROVIDER_PLUS),
    RouteSpec("POST", "/appointments/{appointmentId}/sync", BILLING_PLUS_OR_EHR),
    RouteSpec("POST", "/appointments/bulk-sync", BILLING_PLUS),
    RouteSpec("GET", "/appointments/bulk-sync/{jobId}", BILLING_PLUS),
    RouteSpec("POST", "/appointments/pull-updates", BILLING_PLUS),
    RouteSpec("GET", "/appointments/pull-updates/{pullId}", BILLING_PLUS),
    # Cancelling a running bulk job (SPEC §6: bulk sync "can be cancelled").
    RouteSpec("POST", "/appointments/bulk-sync/{jobId}/cancel", BILLING_PLUS),
    RouteSpec("GET", "/sync/dashboard", ADMIN_ONLY),
    RouteSpec("GET", "/sync/logs", ADMIN_ONLY),
    RouteSpec("GET", "/sync/stats", ADMIN_ONLY),
    # Needed for a stand-alone service.
    RouteSpec("PUT", "/patients/{patientId}", EHR_ONLY),
    RouteSpec("PUT", "/appointments/{appointmentId}", EHR_ONLY),
    RouteSpec("POST", "/appointments/{appointmentId}/status", BILLING_PLUS_OR_EHR),
    RouteSpec("GET", "/appointments", BILLING_PLUS),
    RouteSpec("GET", "/visits/{visitId}", BILLING_PLUS),
    RouteSpec("GET", "/changes", EHR_ONLY),
    RouteSpec("GET", "/conflicts", ADMIN_ONLY),
    RouteSpec("POST", "/conflicts/{conflictId}/resolve", ADMIN_ONLY),
    RouteSpec("GET", "/settings", ADMIN_ONLY),
    RouteSpec("PUT", "/settings", ADMIN_ONLY),
    RouteSpec("PATCH", "/settings", ADMIN_ONLY),  # RFC 7396 merge patch (SPEC §9.1)
    RouteSpec("POST", "/settings/test-connection", ADMIN_ONLY),
    RouteSpec("GET", "/providers", BILLING_PLUS),
    RouteSpec("GET", "/facilities", BILLING_PLUS),
    RouteSpec("GET", "/mappings/{kind}", ADMIN_ONLY),
    RouteSpec("PUT", "/mappings/{kind}/{ehrId}", ADMIN_ONLY),
    RouteSpec("GET", "/health", None),
    RouteSpec("GET", "/openapi.json", None),
    # Operator features (SPEC §9.4): failed work and the audit trail.
    RouteSpec("GET", "/audit", ADMIN_ONLY),
    RouteSpec("GET", "/sync/failed", BILLING_PLUS),
    RouteSpec("POST", "/sync/failed/{jobId}/retry", BILLING_PLUS),
    RouteSpec("POST", "/sync/failed/retry-all", ADMIN_ONLY),
    RouteSpec("DELETE", "/sync/failed/{jobId}", ADMIN_ONLY),
    # What the admin UI's "Sync all patients" button calls (one request, not one per patient).
    RouteSpec("POST", "/patients/sync-all", BILLING_PLUS),
    # Signed webhooks (SPEC §9.4; web/api_webhooks.py).
    RouteSpec("GET", "/webhooks", ADMIN_ONLY),
    RouteSpec("PUT", "/webhooks/{webhookId}", ADMIN_ONLY),
    RouteSpec("DELETE", "/webhooks/{webhookId}", ADMIN_ONLY),
    RouteSpec("GET", "/webhooks/{webhookId}/deliveries", ADMIN_ONLY),
    RouteSpec("POST", "/webhooks/{webhookId}/test", ADMIN_ONLY),
    # The console's role-aware pages (web/api_console.py): who am I and where do I land, a
    # provider's day from our own records, the queue and its wait for billing staff.
    RouteSpec("GET", "/me", PROVIDER_PLUS),
    RouteSpec("GET", "/schedule", PROVIDER_PLUS),
    RouteSpec("GET", "/sync/status", BILLING_PLUS),
    # The admin UI and the embeddable widgets (web/api_ui.py): HTML shells and static assets
    # that hold no data; their script calls the routes above with the user's bearer token.
    RouteSpec("GET", "/ui/{page}", None, documented=False),
    RouteSpec("GET", "/ui/static/{file}", None, documented=False),
    RouteSpec("GET", "/widgets/{name}", None, documented=False),
)


def is_allowed(route: RouteSpec, roles: frozenset[str]) -> bool:
    """True when any of the caller's roles may call the route (public routes allow everyone)."""
    if route.roles is None:
        return True
    return any(role in route.roles for role in roles)
