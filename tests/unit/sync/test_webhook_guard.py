"""The SSRF guard: webhooks go to https URLs on public hosts only (SPEC §9.4)."""

from __future__ import annotations

import ipaddress

import pytest

from amdsync.sync.webhook_guard import UrlGuard, UrlNotAllowed, is_public
from tests.fakes.webhooks import PUBLIC_HOST, fake_resolve

GUARD = UrlGuard(resolve=fake_resolve)
LOCAL = UrlGuard.from_setting(["127.0.0.1"], resolve=fake_resolve)


def test_https_on_a_public_host_is_allowed_with_every_address_checked() -> None:
    target = GUARD.check(f"https://{PUBLIC_HOST}/amdsync?token=abc")
    assert (target.host, target.port) == (PUBLIC_HOST, 443)
    assert len(target.addresses) == 2


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        (f"http://{PUBLIC_HOST}/hooks", "https"),
        (f"ftp://{PUBLIC_HOST}/hooks", "https"),
        ("https:///no-host", "no host"),
        (f"https://user:pass@{PUBLIC_HOST}/", "credentials"),
        ("https://127.0.0.1/hooks", "private or reserved"),
        ("https://localhost.localdomain.invalid/", "does not resolve"),
        ("https://10.0.0.8/", "private or reserved"),
        ("https://172.16.3.4/", "private or reserved"),
        ("https://192.168.1.1/", "private or reserved"),
        ("https://169.254.169.254/latest/meta-data", "private or reserved"),
        ("https://100.64.0.1/", "private or reserved"),
        ("https://0.0.0.0/", "private or reserved"),
        ("https://224.0.0.1/", "private or reserved"),
        ("https://240.0.0.1/", "private or reserved"),
        ("https://[::1]/", "private or reserved"),
        ("https://[fe80::1]/", "private or reserved"),
        ("https://[fd00::1]/", "private or reserved"),
        ("https://[ff02::1]/", "private or reserved"),
        ("https://[::ffff:127.0.0.1]/", "private or reserved"),
        ("https://[64:ff9b::a9fe:a9fe]/", "private or reserved"),
        ("https://[2002:a00:1::]/", "private or reserved"),
        ("https://intranet.example.com/hooks", "private or reserved"),
        ("https://metadata.example.com/", "private or reserved"),
        ("https://sneaky.example.com/", "private or reserved"),
        (f"https://{PUBLIC_HOST}:99999/", "port"),
    ],
)
def test_refused(url: str, reason: str) -> None:
    with pytest.raises(UrlNotAllowed, match=reason) as caught:
        GUARD.check(url)
    assert url not in str(caught.value)


def test_a_name_that_does_not_resolve_is_transient_a_private_address_is_not() -> None:
    with pytest.raises(UrlNotAllowed) as unresolved:
        GUARD.check("https://nowhere.example.com/")
    with pytest.raises(UrlNotAllowed) as private:
        GUARD.check("https://10.0.0.1/")
    assert unresolved.value.transient and not private.value.transient


def test_the_local_override_allows_http_to_its_exact_hosts_only() -> None:
    assert LOCAL.check("http://127.0.0.1:8123/hooks").port == 8123
    for url in ("http://127.0.0.2:8123/", "http://localhost:8123/", "https://10.0.0.1/"):
        with pytest.raises(UrlNotAllowed):
            LOCAL.check(url)


@pytest.mark.parametrize(
    ("address", "public"),
    [("8.8.8.8", True), ("2001:4860:4860::8888", True), ("198.51.100.7", False),
     ("::ffff:8.8.8.8", True), ("::", False), ("192.0.0.8", False)],
)  # fmt: skip
def test_is_public(address: str, public: bool) -> None:
    assert is_public(ipaddress.ip_address(address)) is public
