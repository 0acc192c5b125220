"""Credentials go only to AdvancedMD's hosts over https (issue 16); a local stack lists its
loopback simulator explicitly."""

from __future__ import annotations

import pytest

from amdsync.amd.endpoints import UntrustedEndpoint, check_endpoint

LOCAL = ("127.0.0.1",)


@pytest.mark.parametrize(
    "url",
    [
        "https://partnerlogin.advancedmd.com/practicemanager/xmlrpc/processrequest.aspx",
        "https://providerapi.advancedmd.com/processrequest/api-101/APP",
        "https://ADVANCEDMD.com/x",
    ],
)
def test_amd_hosts_over_https_are_trusted(url: str) -> None:
    assert check_endpoint(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "http://partnerlogin.advancedmd.com/practicemanager/xmlrpc/processrequest.aspx",
        "https://advancedmd.com.evil.example/x",
        "https://evil-advancedmd.com/x",
        "https://attacker.example/processrequest/api-1/APP",
        "https://user@attacker.example#@advancedmd.com",
        "ftp://advancedmd.com/x",
        "https:///nohost",
        "not a url",
        "http://127.0.0.1:4000/x",  # loopback is trusted only when listed
    ],
)
def test_anything_else_is_refused(url: str) -> None:
    with pytest.raises(UntrustedEndpoint) as refused:
        check_endpoint(url)
    assert "attacker" not in str(refused.value) and "evil" not in str(refused.value)


def test_a_listed_loopback_host_may_use_plain_http() -> None:
    assert check_endpoint("http://127.0.0.1:4000/x", LOCAL) == "http://127.0.0.1:4000/x"
    with pytest.raises(UntrustedEndpoint):
        check_endpoint("http://10.0.0.5:4000/x", ("10.0.0.5",))  # only loopback may be plain
