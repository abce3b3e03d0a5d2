"""The addresses a phone on the same network can use to reach this machine, best first."""

from __future__ import annotations

import ipaddress
import socket

_HOME_NETWORKS = [ipaddress.ip_network(n) for n in ("192.168.0.0/16", "10.0.0.0/8", "172.16.0.0/12")]


def lan_addresses() -> list[str]:
    """This machine's IPv4 addresses: home/office (RFC 1918) ones first, then other private, public, loopback last."""
    import psutil  # reads the interfaces' addresses the same way on Linux, macOS and Windows

    found: list[str] = []
    for addresses in psutil.net_if_addrs().values():
        for address in addresses:
            if address.family == socket.AF_INET and address.address not in found:
                found.append(address.address)
    return sorted(found, key=_preference)


def _preference(address: str) -> tuple[int, str]:
    ip = ipaddress.ip_address(address)
    if ip.is_loopback:
        rank = 4
    elif ip.is_link_local:
        rank = 3  # 169.254.x.x: no DHCP answer, rarely reachable
    elif any(ip in network for network in _HOME_NETWORKS):
        rank = 0
    elif ip.is_private:
        rank = 1
    else:
        rank = 2
    return rank, address


def url_host(host: str, port: int) -> str:
    """host:port as it goes in a URL (IPv6 addresses in brackets)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
