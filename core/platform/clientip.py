"""The client's IP address, honouring X-Forwarded-For only from trusted proxies.

The direct peer is the client unless it is a configured proxy (TRUSTED_PROXIES: IPs or CIDRs).
Then X-Forwarded-For is read from the right — each hop was appended by the proxy before it —
skipping trusted proxies; the first address that is not one is the client. A header sent by
anyone else is ignored, so a spoofed X-Forwarded-For never changes the answer.
"""

import ipaddress
from collections.abc import Iterable
from functools import lru_cache

from starlette.requests import HTTPConnection

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
UNKNOWN_CLIENT = "unknown"


class TrustedProxies:
    """A set of proxy networks, parsed once."""

    def __init__(self, entries: Iterable[str]) -> None:
        self.networks: tuple[IPNetwork, ...] = tuple(
            ipaddress.ip_network(entry.strip(), strict=False) for entry in entries
        )

    def __contains__(self, address: str) -> bool:
        if not self.networks:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.networks)


@lru_cache(maxsize=8)
def trusted_proxies(entries: tuple[str, ...]) -> TrustedProxies:
    """The parsed proxies for `entries` (cached: settings do not change at run time)."""
    return TrustedProxies(entries)


def _forwarded_chain(headers: Iterable[tuple[bytes, bytes]]) -> list[str]:
    chain: list[str] = []
    for name, value in headers:
        if name == b"x-forwarded-for":
            chain.extend(part.strip() for part in value.decode("latin-1").split(","))
    return chain


def _plain_address(candidate: str) -> str | None:
    """`candidate` as a normalised IP, or None when it is not one."""
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None


def resolve_client_ip(
    peer: str | None, headers: Iterable[tuple[bytes, bytes]], proxies: TrustedProxies
) -> str:
    """The client address given the direct `peer`, the raw ASGI headers and the trusted proxies."""
    if not peer:
        return UNKNOWN_CLIENT
    if peer not in proxies:
        return peer
    client = peer
    for hop in reversed(_forwarded_chain(headers)):
        address = _plain_address(hop)
        if address is None:
            break  # garbage from beyond our proxies: trust only what we have so far
        client = address
        if address not in proxies:
            break
    return client


def client_ip(connection: HTTPConnection) -> str:
    """The client IP of a request, using the app's TRUSTED_PROXIES setting."""
    settings = connection.app.state.settings
    proxies = trusted_proxies(tuple(settings.ratelimit.trusted_proxies))
    peer = connection.client.host if connection.client else None
    return resolve_client_ip(peer, connection.scope["headers"], proxies)
