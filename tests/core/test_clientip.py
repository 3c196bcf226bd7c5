"""The client IP: X-Forwarded-For counts only when the direct peer is a trusted proxy."""

import pytest

from core.platform.clientip import TrustedProxies, resolve_client_ip

PROXIES = TrustedProxies(["10.0.0.1", "10.1.0.0/16", "fd00::/8"])


def xff(*values: str) -> list[tuple[bytes, bytes]]:
    return [(b"x-forwarded-for", value.encode()) for value in values]


def test_without_a_trusted_peer_the_header_is_ignored() -> None:
    assert resolve_client_ip("203.0.113.9", xff("198.51.100.1"), PROXIES) == "203.0.113.9"


def test_with_no_proxies_configured_the_header_is_ignored() -> None:
    assert resolve_client_ip("10.0.0.1", xff("198.51.100.1"), TrustedProxies([])) == "10.0.0.1"


def test_a_trusted_peer_passes_on_the_address_it_saw() -> None:
    assert resolve_client_ip("10.0.0.1", xff("198.51.100.1"), PROXIES) == "198.51.100.1"


def test_a_spoofed_leftmost_entry_does_not_win() -> None:
    # the client sent "1.2.3.4"; our proxy appended the address it really saw
    chain = xff("1.2.3.4, 198.51.100.1")
    assert resolve_client_ip("10.0.0.1", chain, PROXIES) == "198.51.100.1"


def test_chains_of_trusted_proxies_are_walked_from_the_right() -> None:
    chain = xff("1.2.3.4, 198.51.100.1, 10.1.2.3")
    assert resolve_client_ip("10.0.0.1", chain, PROXIES) == "198.51.100.1"


def test_several_headers_are_one_list_in_order() -> None:
    chain = xff("1.2.3.4", "198.51.100.1")
    assert resolve_client_ip("10.0.0.1", chain, PROXIES) == "198.51.100.1"


@pytest.mark.parametrize("garbage", ["not-an-ip", "", "1.2.3.4:80"])
def test_garbage_stops_the_walk_at_the_last_trusted_hop(garbage: str) -> None:
    assert resolve_client_ip("10.0.0.1", xff(garbage), PROXIES) == "10.0.0.1"


def test_ipv6_proxies_and_clients() -> None:
    assert resolve_client_ip("fd00::1", xff("2001:db8::7"), PROXIES) == "2001:db8::7"


def test_no_peer_is_unknown() -> None:
    assert resolve_client_ip(None, xff("1.2.3.4"), PROXIES) == "unknown"
