"""Where credentials may be sent: AdvancedMD's own hosts, over https (issue 16).

Login step 1 answers with the webserver step 2 must post the password to (PROTOCOL §2.2). A
tampered or misconfigured reply must not make us post credentials to any host: the partner
login URL and that webserver must be https on a trusted domain (`advancedmd.com` unless the
environment says otherwise). A local stack trusts its loopback simulator by listing its host;
plain http is accepted only for a listed loopback host.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final
from urllib.parse import urlsplit

from amdsync.amd.errors import PermanentError

AMD_DOMAIN: Final = "advancedmd.com"
DEFAULT_TRUSTED_HOSTS: Final = (AMD_DOMAIN,)
LOOPBACK_HOSTS: Final = frozenset({"127.0.0.1", "localhost", "::1"})


class UntrustedEndpoint(PermanentError):
    error_code = "AMD_UNTRUSTED_ENDPOINT"
    meaning = "refused to send AdvancedMD credentials to an endpoint outside the trusted hosts"


def _trusted_host(host: str, trusted: Sequence[str]) -> bool:
    return any(host == t or host.endswith("." + t) for t in (t.lower().strip(".") for t in trusted))


def check_endpoint(url: str, trusted: Sequence[str] = DEFAULT_TRUSTED_HOSTS) -> str:
    """`url` unchanged when credentials may go there; UntrustedEndpoint otherwise (the message
    names no host: a hostile reply's text is never echoed into logs)."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        raise UntrustedEndpoint() from None
    if not host or not _trusted_host(host, trusted):
        raise UntrustedEndpoint()
    if parts.scheme == "https" or (parts.scheme == "http" and host in LOOPBACK_HOSTS):
        return url
    raise UntrustedEndpoint()
