"""The one guard in front of every outgoing request the engine makes.

A target endpoint is allowed only if

1. it is in the allow-list the caller passes (the case's registered nodes, compared by
   scheme, host, port, path and query), and
2. every address its host resolves to is a public (globally routable) address, or lies in
   one of the networks the caller explicitly permits (``allowed_networks``).

Refused by default: loopback, private (RFC 1918, fc00::/7), link-local, carrier-grade NAT
(100.64.0.0/10), 0.0.0.0/8, the IETF protocol block 192.0.0.0/24, documentation and
benchmarking ranges, multicast, broadcast, reserved and unspecified addresses, and IPv6
addresses that embed one of those (IPv4-mapped, IPv4-compatible ``::a.b.c.d``, 6to4, NAT64,
Teredo). A firm registers its own endpoints, so without this a firm could make the portal
talk to services on the portal's own host or network. A deployment whose nodes live on a
private network (a consortium chain, or the local reference node of the demo) lists those
networks in ``allowed_networks``. Cloud metadata addresses and host names are refused even
when a permitted network contains them.

``Guard.check`` is called by the RPC clients before every request, and the clients'
network backend calls ``Guard.connect_addresses`` at connect time, so the address a socket
is opened to is the address that was checked (a host that resolves differently a second
time cannot slip past). A refusal raises ``EndpointRefused`` before any socket is opened.
``registration_refusal`` applies the same rules, without connecting, to an endpoint a firm
wants to register.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from .errors import EndpointRefused, InvalidParameters, NodeUnreachable

SCHEMES = {"http": 80, "https": 443, "ws": 80, "wss": 443}
# Longer than any real endpoint; bounds what reaches the URL parser.
MAX_URL_LENGTH = 2048

# Names that reach a cloud provider's instance metadata service from inside the cloud.
METADATA_HOSTS = frozenset(
    {
        "metadata.google.internal",
        "metadata.goog",
        "metadata",
        "instance-data",
        "instance-data.ec2.internal",
    }
)
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, Azure, GCP, OpenStack, DigitalOcean
        "169.254.170.2",  # AWS ECS task metadata
        "fd00:ec2::254",  # AWS over IPv6
        "100.100.100.200",  # Alibaba Cloud
        "168.63.129.16",  # Azure wire server
    )
)

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _networks(*cidrs: str) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(c) for c in cidrs)


# The IANA special-purpose ranges, named, checked before the ``ipaddress`` properties so a
# refusal says what kind of address it was. Listed explicitly because ``is_global`` differs
# between Python versions (3.11 calls 192.0.0.192 and 2002::/16 global).
SPECIAL_RANGES: tuple[tuple[str, tuple[Network, ...]], ...] = (
    ("the unspecified address", _networks("0.0.0.0/32", "::/128")),
    ("a loopback address", _networks("127.0.0.0/8", "::1/128")),
    ("a link-local address", _networks("169.254.0.0/16", "fe80::/10")),
    ("a private address", _networks("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")),
    ("a private address", _networks("fc00::/7", "fec0::/10")),
    ("a carrier-grade NAT address", _networks("100.64.0.0/10")),
    ("in 0.0.0.0/8 (this network)", _networks("0.0.0.0/8")),
    ("an IETF protocol address", _networks("192.0.0.0/24", "2001::/23")),
    (
        "a documentation or benchmarking address",
        _networks(
            "192.0.2.0/24",
            "198.51.100.0/24",
            "203.0.113.0/24",
            "198.18.0.0/15",
            "2001:db8::/32",
            "3fff::/20",
        ),
    ),
    ("a multicast address", _networks("224.0.0.0/4", "ff00::/8")),
    ("the broadcast address", _networks("255.255.255.255/32")),
    (
        "a reserved address",
        _networks("240.0.0.0/4", "192.88.99.0/24", "100::/64", "5f00::/16", "::/8"),
    ),
    (
        "a translation address",
        _networks("64:ff9b::/96", "64:ff9b:1::/48", "2002::/16", "::ffff:0:0/96"),
    ),
)
NAT64 = _networks("64:ff9b::/96", "64:ff9b:1::/48")
TEREDO = ipaddress.ip_network("2001::/32")
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")

Resolver = Callable[[str, int], list[str]]


def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to, in the order the system prefers."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[str] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        address = sockaddr[0].split("%", 1)[0]  # drop an IPv6 zone id
        if address not in addresses:
            addresses.append(address)
    return addresses


def parse_networks(networks: Iterable[str | Network]) -> tuple[Network, ...]:
    """The permitted networks as ``ipaddress`` networks; a malformed entry is an error."""
    if isinstance(networks, str):
        raise InvalidParameters("allowed networks are a list of networks, not one string")
    parsed = []
    for network in networks:
        if isinstance(network, ipaddress.IPv4Network | ipaddress.IPv6Network):
            parsed.append(network)
            continue
        try:
            parsed.append(ipaddress.ip_network(str(network).strip()[:100], strict=False))
        except ValueError:
            raise InvalidParameters(f"{str(network)[:100]!r} is not an IP network") from None
    return tuple(parsed)


def embedded_ipv4(ip: Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (mapped, compatible, 6to4, NAT64, Teredo).

    Each of them may be where a packet to ``ip`` ends up, so each is checked like ``ip``.
    """
    if ip.version == 4:
        return []
    found: list[ipaddress.IPv4Address] = []
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)
    if ip in IPV4_COMPATIBLE and int(ip) > 1:  # ::a.b.c.d, but not :: and ::1
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if any(ip in net for net in NAT64):
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    if ip in TEREDO and ip.teredo is not None:
        found.extend(ip.teredo)
    return found


def special_kind(ip: Address) -> str | None:
    """What kind of non-public address ``ip`` is, or None for a public address."""
    for label, networks in SPECIAL_RANGES:
        if any(ip in net for net in networks if net.version == ip.version):
            return label
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_unspecified:
        return "the unspecified address"
    if ip.is_reserved:
        return "a reserved address"
    if ip.is_private or not ip.is_global:
        return "not a public address"
    return None


def _listed(ip: Address, networks: Sequence[Network]) -> bool:
    return any(ip in net for net in networks if net.version == ip.version)


def _refusal(ip: Address, networks: Sequence[Network]) -> tuple[str, Address] | None:
    """(kind, offending address) when ``ip`` may not be connected to, else None."""
    embedded = embedded_ipv4(ip)
    for candidate in (*embedded, ip):
        if candidate in METADATA_ADDRESSES:
            return "a cloud metadata address", candidate
    mapped = ip.ipv4_mapped if ip.version == 6 else None
    for candidate in (*embedded, ip):
        kind = special_kind(candidate)
        if kind is None or _listed(candidate, networks):
            continue
        # ::ffff:a.b.c.d is a.b.c.d on a dual-stack socket: listing a.b.c.d permits both.
        if candidate is ip and mapped is not None and _listed(mapped, networks):
            continue
        return kind, candidate
    return None


def refusal_reason(address: str, allowed_networks: Iterable[str | Network] = ()) -> str | None:
    """Why a resolved address may not be connected to, or None if it may.

    A public address may; any other only when ``allowed_networks`` contains it (and, for an
    address embedding an IPv4 address, the embedded one too). A metadata address never may.
    """
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return f"{address[:100]!r} is not an IP address"
    found = _refusal(ip, parse_networks(allowed_networks))
    if found is None:
        return None
    kind, offending = found
    if offending == ip:
        return f"{address} is {kind}"
    return f"{address} embeds {offending}, {kind}"


@dataclass(frozen=True)
class Endpoint:
    """A parsed endpoint URL: what the allow-list compares."""

    url: str
    scheme: str
    host: str
    port: int
    path: str
    query: str

    @property
    def key(self) -> tuple[str, str, int, str, str]:
        return (self.scheme, self.host, self.port, self.path, self.query)


def parse_endpoint(url: str) -> Endpoint:
    """Parse and normalise an endpoint URL, refusing anything that is not one."""
    if not isinstance(url, str) or not url.strip():
        raise EndpointRefused(str(url)[:100], "not a URL")
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise EndpointRefused(url[:100] + "...", f"longer than {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise EndpointRefused(url, f"not a valid URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise EndpointRefused(url, f"scheme {scheme or '(none)'!r} is not http, https, ws or wss")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise EndpointRefused(url, "no host")
    if parts.username is not None or parts.password is not None:
        raise EndpointRefused(url, "credentials in the URL are not accepted")
    if parts.fragment:
        raise EndpointRefused(url, "a fragment is not part of an endpoint")
    return Endpoint(
        url=url,
        scheme=scheme,
        host=host,
        port=port if port is not None else SCHEMES[scheme],
        path=parts.path.rstrip("/"),
        query=parts.query,
    )


def registration_refusal(
    url: str,
    allowed_networks: Iterable[str | Network] = (),
    resolver: Resolver | None = None,
) -> str | None:
    """Why ``url`` may never be a target, or None; no connection is made.

    Refused: what ``parse_endpoint`` refuses (scheme, credentials, no host, too long), a
    metadata host name, a literal address the guard would refuse, and a host name any of
    whose addresses the guard would refuse. A name that does not resolve (yet) is not a
    refusal: the guard checks it again before every connection.
    """
    try:
        endpoint = parse_endpoint(url)
    except EndpointRefused as exc:
        return exc.reason
    networks = parse_networks(allowed_networks)
    host = endpoint.host
    if host in METADATA_HOSTS:
        return f"{host} is a cloud metadata host"
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return refusal_reason(host, networks)
    try:
        addresses = (resolver or system_resolver)(host, endpoint.port)
    except (OSError, UnicodeError, ValueError):
        return None
    for address in addresses:
        if refusal_reason(address, networks) is not None:
            # The kind, not the address: an internal name's address is not the firm's to learn.
            return f"{host} resolves to {_kind(address, networks)}"
    return None


class Guard:
    """Decides whether the engine may talk to an endpoint; see the module docstring."""

    def __init__(
        self,
        allowed: Iterable[str],
        resolver: Resolver | None = None,
        cache_seconds: float = 5.0,
        allowed_networks: Iterable[str | Network] = (),
    ):
        self._allowed: dict[tuple, Endpoint] = {}
        self._networks = parse_networks(allowed_networks)
        # A short cache keeps name lookups off the hot path of a load test; the socket is
        # still opened only to an address from the answer that was checked.
        self._cache_seconds = cache_seconds
        self._cache: dict[tuple[str, int], tuple[float, list[str]]] = {}
        for url in allowed:
            try:
                endpoint = parse_endpoint(url)
            except EndpointRefused:
                continue  # a malformed registration can never be a target
            self._allowed[endpoint.key] = endpoint
        self._resolver = resolver or system_resolver

    @property
    def allowed(self) -> list[str]:
        return [e.url for e in self._allowed.values()]

    @property
    def allowed_networks(self) -> tuple[str, ...]:
        return tuple(str(n) for n in self._networks)

    def check(self, url: str) -> Endpoint:
        """Refuse ``url`` unless it is allowed and resolves only to permitted addresses."""
        endpoint = parse_endpoint(url)
        if endpoint.key not in self._allowed:
            raise EndpointRefused(url, "not one of the case's registered nodes")
        self.connect_addresses(endpoint.host, endpoint.port, url=url)
        return endpoint

    def connect_addresses(self, host: str, port: int, url: str | None = None) -> list[str]:
        """The addresses a socket to ``host:port`` may be opened to, all checked.

        Refuses a host:port that no allowed endpoint names, a metadata host name, and a
        host any of whose addresses is refused (one bad address taints the name).
        """
        label = url or f"{host}:{port}"
        host = host.strip("[]").rstrip(".").lower()
        if not any(e.host == host and e.port == port for e in self._allowed.values()):
            raise EndpointRefused(label, "not one of the case's registered nodes")
        if host in METADATA_HOSTS:
            raise EndpointRefused(label, f"{host} is a cloud metadata host")
        addresses = self._resolve(host, port, label)
        if not addresses:
            raise NodeUnreachable(label, "name not resolved")
        literal = _is_literal(host)
        for address in addresses:
            reason = refusal_reason(address, self._networks)
            if reason is None:
                continue
            if not literal:
                # The kind, not the address: an internal name's address is not the firm's to
                # learn.
                reason = f"{host} resolves to {_kind(address, self._networks)}"
            raise EndpointRefused(label, reason)
        return addresses

    def _resolve(self, host: str, port: int, label: str) -> list[str]:
        now = time.monotonic()
        cached = self._cache.get((host, port))
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            addresses = self._resolver(host, port)
        except (OSError, UnicodeError, ValueError):
            # The class only: the resolver's own text can name internal servers.
            raise NodeUnreachable(label, "name not resolved") from None
        if self._cache_seconds > 0:
            self._cache[(host, port)] = (now + self._cache_seconds, list(addresses))
        return addresses


def _kind(address: str, networks: Sequence[Network]) -> str:
    try:
        found = _refusal(ipaddress.ip_address(address), networks)
    except ValueError:
        return "something that is not an IP address"
    return found[0] if found else "a permitted address"


def _is_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def check_endpoint(
    url: str,
    allowed: Iterable[str],
    resolver: Resolver | None = None,
    allowed_networks: Iterable[str | Network] = (),
) -> Endpoint:
    """Check one URL against an allow-list; raises ``EndpointRefused`` if it may not be used."""
    return Guard(allowed, resolver, allowed_networks=allowed_networks).check(url)
