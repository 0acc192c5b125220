"""Every HTML answer of the admin UI and the widgets tells browsers to use HTTPS only (HSTS,
issue 16), next to the CSP and framing headers it already sends."""

from __future__ import annotations

import pytest

from tests.unit.api.support import Api

HSTS = "max-age=63072000; includeSubDomains"


@pytest.mark.parametrize(
    ("route", "params", "status"),
    [
        ("/ui/{page}", {"page": "dashboard"}, 200),
        ("/ui/{page}", {"page": "sign-in"}, 200),
        ("/ui/{page}", {"page": "no-such-page"}, 404),
        ("/widgets/{name}", {"name": "patient"}, 200),
        ("/widgets/{name}", {"name": "no-such-widget"}, 404),
    ],
)
def test_html_pages_send_strict_transport_security(
    route: str, params: dict[str, str], status: int
) -> None:
    reply = Api().call("GET", route, roles=None, path_params=params)
    assert reply.status == status
    assert reply.headers["content-type"].startswith("text/html")
    assert reply.headers["strict-transport-security"] == HSTS
    assert "content-security-policy" in reply.headers
