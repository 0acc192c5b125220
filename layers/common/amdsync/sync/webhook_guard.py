"""The SSRF guard of webhook URLs: https on a public host only (SPEC §9.4).

A subscription URL is checked when it is saved and again before every send (DNS may change in
between): the scheme must be https, the URL may carry no credentials, and every address the
host resolves to must be a public unicast address — no private, loopback, link-local,
multicast, reserved, unspecified or shared (CGNAT) ranges, and no IPv4 hidden inside IPv6.

`insecure_hosts` (setting WEBHOOK_INSECURE_HOSTS, empty when deployed) names exact hosts for
which http and non-public addresses are allowed: the local stack's test receivers on 127.0.0.1.
Redirects are never followed by the sender, so a public host cannot bounce a request inward.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolve = Callable[[str, int], list[str]]


class UrlNotAllowed(Exception):
    """The URL may not receive webhooks. `reason` is a fixed phrase, never the URL itself."""

    def __init__(self, reason: str, *, transient: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.transient = transient  # DNS did not answer: worth retrying, unlike a private IP


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    addresses: tuple[str, ...]


def system_resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (A and AAAA)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


@dataclass(frozen=True)
class UrlGuard:
    insecure_hosts: frozenset[str] = frozenset()
    resolve: Resolve = system_resolve

    @classmethod
    def from_setting(cls, hosts: Iterable[str], resolve: Resolve = system_resolve) -> UrlGuard:
        return cls(frozenset(h.strip().lower() for h in hosts if h.strip()), resolve)

    def check(self, url: str) -> Target:
        """The URL's host, port and addresses when it may receive webhooks; UrlNotAllowed else."""
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if not host:
            raise UrlNotAllowed("the URL has no host")
        if parts.username or parts.password:
            raise UrlNotAllowed("the URL may not carry credentials")
        exempt = host in self.insecure_hosts
        if parts.scheme != "https" and not (exempt and parts.scheme == "http"):
            raise UrlNotAllowed("the URL must use https")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise UrlNotAllowed("the URL's port is not valid") from None
        addresses = self._addresses(host, port)
        if not exempt:
            for address in addresses:
                if not is_public(ipaddress.ip_address(address)):
                    raise UrlNotAllowed("the host resolves to a private or reserved address")
        return Target(host, port, tuple(addresses))

    def _addresses(self, host: str, port: int) -> list[str]:
        try:
            return [str(ipaddress.ip_address(host))]
        except ValueError:
            pass
        try:
            found = self.resolve(host, port)
        except (OSError, UnicodeError):
            raise UrlNotAllowed("the host name does not resolve", transient=True) from None
        if not found:
            raise UrlNotAllowed("the host name does not resolve", transient=True)
        return found


def is_public(address: IpAddress) -> bool:
    """A globally routable unicast address (IPv4 inside IPv6 is judged as the IPv4)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or _teredo_client(address)
        if embedded is not None:
            return is_public(embedded)
        if address in _NAT64:
            return is_public(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    if any(address in network for network in _ALWAYS_BLOCKED):
        return False
    return (
        address.is_global
        and not address.is_multicast
        and not address.is_reserved
        and not address.is_loopback
        and not address.is_link_local
        and not address.is_private
        and not address.is_unspecified
    )


_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# Special-purpose ranges blocked whatever the Python version's `is_global` says of them
# (the stdlib's tables changed between patch releases).
_ALWAYS_BLOCKED = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
        "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16",
        "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/3",
        "::/128", "::1/128", "100::/64", "2001:db8::/32", "fc00::/7", "fe80::/10", "ff00::/8",
    )
)  # fmt: skip


def _teredo_client(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    teredo = address.teredo
    return teredo[1] if teredo else None
