"""Which addresses the fetcher may connect to, judged after DNS resolution and before connecting.

A URL in a feed, a sitemap or a JSONL record is anyone's to write, so every host is resolved
here and each address is judged on its own: only public unicast addresses are allowed.
Loopback, private (RFC 1918, unique-local), link-local, carrier-grade NAT, multicast,
unspecified and reserved addresses are refused, and so are IPv6 forms that carry such an
IPv4 address inside them (IPv4-mapped, 6to4, NAT64, Teredo). The fetcher connects to the
address judged here, never to the name again, so a DNS answer cannot change between the
check and the connection (DNS rebinding); every redirect opens its connection through the
same check.

`allow_private` lets a newsroom read its own intranet (and tests their loopback server);
`allow_networks` allows only the networks named. Cloud metadata endpoints stay refused either
way: no news page lives there, and they hand out credentials.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..errors import InputError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Instance metadata services (AWS, GCP, Azure, OpenStack: 169.254.169.254; AWS IPv6; Alibaba; Oracle).
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(address)
    for address in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200", "192.0.0.192")
)
NAT64 = ipaddress.ip_network("64:ff9b::/96")
ALLOWED_SCHEMES = ("http", "https")


class AddressRefused(InputError):
    """The URL's scheme or address is not one the fetcher may connect to."""


def embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, 6to4, NAT64, Teredo client), if any."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public(address: IPAddress) -> bool:
    """A global unicast address, also when seen through the IPv4 address it embeds."""
    inner = embedded_ipv4(address)
    if inner is not None and not is_public(inner):
        return False
    return address.is_global and not address.is_multicast


def _networks(values: Iterable[str]) -> tuple[IPNetwork, ...]:
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise InputError(f"--allow-network {value!r}: not an IP address or network (e.g. 10.20.0.0/16)") from None
    return tuple(networks)


@dataclass(frozen=True)
class AddressPolicy:
    """Public addresses always; others only with `allow_private` or inside `allow_networks`."""

    allow_private: bool = False
    allow_networks: tuple[IPNetwork, ...] = field(default=())

    @classmethod
    def of(cls, *, allow_private: bool = False, allow_networks: Iterable[str] = ()) -> AddressPolicy:
        """A policy from option values; a network that is not one is an `InputError`."""
        return cls(allow_private=allow_private, allow_networks=_networks(allow_networks))

    def refusal(self, address: IPAddress) -> str | None:
        """Why the address is refused, or None when it may be connected to."""
        inner = embedded_ipv4(address)
        if address in METADATA_ADDRESSES or (inner is not None and inner in METADATA_ADDRESSES):
            return "a cloud metadata address"
        if is_public(address):
            return None
        if self.allow_private or any(address in network for network in self.allow_networks):
            return None
        return f"a {_kind(address)} address (--allow-private or --allow-network to fetch it)"

    def check(self, host: str, addresses: Iterable[str]) -> list[str]:
        """The addresses in the order given, when every one is allowed; else `AddressRefused`.

        One refused address refuses the host: a name that resolves to a public and a private
        address must not be reachable through whichever the connection happens to pick.
        """
        allowed = []
        for text in addresses:
            address = ipaddress.ip_address(text.split("%", 1)[0])
            reason = self.refusal(address)
            if reason is not None:
                raise AddressRefused(f"{host}: refused, {address} is {reason}")
            allowed.append(text)
        if not allowed:
            raise AddressRefused(f"{host}: no address")
        return allowed

    async def resolve(self, host: str, port: int) -> list[str]:
        """Resolve `host` (names, and IP literals in any form inet_aton reads) and check every address."""
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise AddressRefused(f"{host}: cannot resolve ({exc.strerror})") from None
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        return self.check(host, addresses)


def _kind(address: IPAddress) -> str:
    inner = embedded_ipv4(address)
    if inner is not None:
        return f"{_kind(inner)} (inside {address})"
    for kind in ("loopback", "link_local", "multicast", "unspecified", "private", "reserved"):
        if getattr(address, f"is_{kind}"):
            return kind.replace("_", "-")
    return "non-public"


def check_scheme(url: str) -> None:
    """Only http and https URLs are fetched."""
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme not in ALLOWED_SCHEMES:
        raise AddressRefused(f"{url}: only http and https URLs are fetched")
