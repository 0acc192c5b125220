import pytest

from amdsync.web.routes import API_ROUTES, Role, is_allowed

ROUTE = {(r.method, r.path): r for r in API_ROUTES}


@pytest.mark.parametrize(
    ("method", "path", "role", "allowed"),
    [
        ("GET", "/appointments/{appointmentId}/sync-status", Role.PROVIDER, True),
        ("POST", "/appointments/{appointmentId}/sync", Role.PROVIDER, False),
        ("POST", "/appointments/{appointmentId}/sync", Role.EHR, True),
        ("GET", "/sync/dashboard", Role.BILLING, False),
        ("GET", "/sync/dashboard", Role.ADMIN, True),
        ("PUT", "/appointments/{appointmentId}", Role.ADMIN, False),
        ("GET", "/changes", Role.EHR, True),
        ("GET", "/health", Role.EHR, True),
    ],
)
def test_role_hierarchy(method: str, path: str, role: Role, allowed: bool) -> None:
    assert is_allowed(ROUTE[(method, path)], frozenset({role})) is allowed


def test_admin_can_do_everything_billing_can_and_billing_everything_provider_can() -> None:
    for route in API_ROUTES:
        if is_allowed(route, frozenset({Role.PROVIDER})):
            assert is_allowed(route, frozenset({Role.BILLING}))
        if is_allowed(route, frozenset({Role.BILLING})):
            assert is_allowed(route, frozenset({Role.ADMIN}))


def test_routes_are_unique() -> None:
    assert len(ROUTE) == len(API_ROUTES)
