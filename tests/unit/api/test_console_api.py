"""The console's role-aware routes: `/me` decides the nav and landing page from the token's
roles (server-side), `/schedule` gives providers their day, `/sync/status` gives billing staff
the queue and its wait."""

from __future__ import annotations

import pytest

from amdsync.web.console_nav import NAV
from amdsync.web.routes import API_ROUTES, is_allowed
from tests.unit.api.samples import APPOINTMENT_BODY
from tests.unit.api.support import Api

ROUTES = {(r.method, r.path): r for r in API_ROUTES}


@pytest.mark.parametrize(
    ("role", "landing", "pages"),
    [
        ("provider", "my-day", ["my-day"]),
        ("billing", "sync-status", ["my-day", "sync-status", "failed-work"]),
        (
            "admin",
            "dashboard",
            [
                "my-day",
                "sync-status",
                "failed-work",
                "dashboard",
                "conflicts",
                "mappings",
                "settings",
                "webhooks",
                "audit",
            ],
        ),
    ],
)
def test_me_names_the_role_its_landing_page_and_only_its_pages(
    role: str, landing: str, pages: list[str]
) -> None:
    reply = Api().call("GET", "/me", roles=[role])
    assert reply.status == 200
    me = reply.json()
    assert (me["role"], me["landingPage"], me["subject"]) == (role, landing, "user-1")
    assert [link["page"] for link in me["nav"]] == pages
    assert all(link["label"] for link in me["nav"])
    assert me["timeZone"] == "America/Denver"


def test_the_ehr_system_account_has_no_console() -> None:
    Api().call("GET", "/me", roles=["ehr"]).assert_problem(403, "FORBIDDEN")


def test_every_nav_entry_is_a_page_its_roles_may_use() -> None:
    """A page's main API route allows every role its nav entry is shown to."""
    main_route = {
        "my-day": ("GET", "/schedule"),
        "sync-status": ("GET", "/sync/status"),
        "dashboard": ("GET", "/sync/dashboard"),
        "conflicts": ("GET", "/conflicts"),
        "mappings": ("GET", "/mappings/{kind}"),
        "settings": ("GET", "/settings"),
        "webhooks": ("GET", "/webhooks"),
        "failed-work": ("GET", "/sync/failed"),
        "audit": ("GET", "/audit"),
    }
    for entry in NAV:
        route = ROUTES[main_route[entry.page]]
        assert all(is_allowed(route, frozenset({role})) for role in entry.roles), entry.page


def _registered(api: Api, appointment_id: str, start: str, provider: str) -> None:
    body = {**APPOINTMENT_BODY, "start": start, "providerId": provider}
    reply = api.call(
        "PUT",
        "/appointments/{appointmentId}",
        roles=["ehr"],
        path_params={"appointmentId": appointment_id},
        body=body,
    )
    assert reply.status in (200, 202), reply.text


def test_schedule_lists_one_day_in_start_order_for_a_provider() -> None:
    api = Api()
    _registered(api, "A-2", "2026-12-01T14:00:00", "DR-7")
    _registered(api, "A-1", "2026-12-01T09:00:00", "DR-8")
    _registered(api, "A-3", "2026-12-02T09:00:00", "DR-7")
    reply = api.call("GET", "/schedule", roles=["provider"], query={"date": "2026-12-01"})
    assert reply.status == 200
    day = reply.json()
    assert [i["appointmentId"] for i in day["items"]] == ["A-1", "A-2"]
    assert day["providerIds"] == ["DR-7", "DR-8"] and day["date"] == "2026-12-01"
    assert day["items"][0]["amdSyncStatus"] in ("pending", "synced")
    one = api.call(
        "GET", "/schedule", roles=["provider"], query={"date": "2026-12-01", "providerId": "DR-7"}
    ).json()
    assert [i["appointmentId"] for i in one["items"]] == ["A-2"]
    api.call("GET", "/schedule", roles=["provider"], query={"date": "12/01"}).assert_problem(
        422, "VALIDATION_FAILED"
    )


def test_sync_status_is_for_billing_with_the_queue_and_its_wait() -> None:
    api = Api()
    _registered(api, "A-1", "2026-12-01T09:00:00", "DR-7")
    reply = api.call("GET", "/sync/status", roles=["billing"])
    assert reply.status == 200
    status = reply.json()
    assert set(status["queue"]) == {"depth", "estimatedWaitSeconds"}
    assert status["appointments"]["total"] == 1
    api.call("GET", "/sync/status", roles=["provider"]).assert_problem(403, "FORBIDDEN")
