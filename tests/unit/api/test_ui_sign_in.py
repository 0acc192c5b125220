"""The admin UI's sign-in settings (SPEC §9.5): the issuer and the UI's client reach the page
as data attributes, the issuer's origin joins CSP connect-src, and the token-paste form exists
only behind the local-development switch."""

from __future__ import annotations

import pytest

from amdsync.config import ConfigError, UiSettings, load_settings
from amdsync.web import api_ui

ISSUER = "https://cognito-idp.us-west-2.amazonaws.com/us-west-2_Abc123"


def sign_in_page() -> tuple[str, str]:
    response = api_ui.ui_page("sign-in")
    assert response.status_code == 200
    body = response.body
    assert isinstance(body, str)
    return body, response.headers["Content-Security-Policy"]


def connect_src(csp: str) -> list[str]:
    directives = {d.split()[0]: d.split()[1:] for d in csp.split("; ")}
    return directives["connect-src"]


def test_with_an_issuer_the_page_offers_issuer_sign_in_and_no_paste_form(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OIDC_ISSUER", ISSUER)
    monkeypatch.setenv("OIDC_CLIENT_ID", "ui-client-1")
    monkeypatch.delenv("UI_TOKEN_PASTE", raising=False)
    html, csp = sign_in_page()
    assert f'data-oidc-issuer="{ISSUER}"' in html
    assert 'data-oidc-client-id="ui-client-1"' in html
    assert 'id="issuer-sign-in"' in html
    assert 'id="sign-in-form"' not in html and "textarea" not in html
    assert connect_src(csp) == ["'self'", "https://cognito-idp.us-west-2.amazonaws.com"]
    assert "oidc.js?v=" in html


def test_the_paste_form_is_a_local_development_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OIDC_ISSUER", "http://127.0.0.1:9400")
    monkeypatch.setenv("OIDC_CLIENT_ID", "amdsync-local")
    monkeypatch.setenv("UI_TOKEN_PASTE", "true")
    html, csp = sign_in_page()
    assert 'id="issuer-sign-in"' in html and 'id="sign-in-form"' in html
    assert connect_src(csp) == ["'self'", "http://127.0.0.1:9400"]


def test_without_an_issuer_nothing_is_offered_and_connect_src_stays_self(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("OIDC_ISSUER", "OIDC_CLIENT_ID", "UI_TOKEN_PASTE"):
        monkeypatch.delenv(name, raising=False)
    html, csp = sign_in_page()
    assert 'data-oidc-issuer=""' in html
    assert 'id="issuer-sign-in"' not in html and 'id="sign-in-form"' not in html
    assert "Sign-in is not set up" in html
    assert connect_src(csp) == ["'self'"]


@pytest.mark.parametrize(
    "issuer",
    ["javascript:alert(1)", 'https://x.example/"onload=1', "ftp://x.example", "https://a b"],
)
def test_a_malformed_issuer_is_refused_at_cold_start(issuer: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings(UiSettings, {"OIDC_ISSUER": issuer})
    assert "OIDC_ISSUER" in str(refused.value)
    assert issuer not in str(refused.value)  # never echoes the value
