"""The one guard in front of every outgoing request the engine makes.

A target endpoint is allowed only if

1. it is in the allow-list the caller passes (the case's registered nodes, compared by
   scheme, host, port, path and query), and
2. every address its host resolves to is neither link-local (169.254.0.0/16, fe80::/10)
   nor a cloud metadata service (169.254.169.254, fd00:ec2::254, metadata.google.internal
   and the like), nor unspecified, multicast or broadcast.

Loopback and private ranges are allowed on purpose: consortium chains run on private
networks, and the reference node listens on 127.0.0.1.

``Guard.check`` is called by the RPC clients before every request, and the clients'
network backend calls ``Guard.connect_addresses`` at connect time, so the address a socket
is opened to is the address that was checked (a host that resolves differently a second
time cannot slip past). A refusal raises ``EndpointRefused`` before any socket is opened.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from .errors import EndpointRefused, NodeUnreachable

SCHEMES = {"http": 80, "https": 443, "ws": 80, "wss": 443}

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
LINK_LOCAL = (ipaddress.ip_network("169.254.0.0/16"), ipaddress.ip_network("fe80::/10"))
NAT64 = ipaddress.ip_network("64:ff9b::/96")

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
        raise EndpointRefused(str(url), "not a URL")
    url = url.strip()
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


def refusal_reason(address: str) -> str | None:
    """Why a resolved address may not be connected to, or None if it may."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return f"{address!r} is not an IP address"
    candidates = [ip]
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            candidates.append(ip.ipv4_mapped)
        if ip.sixtofour is not None:
            candidates.append(ip.sixtofour)
        if ip in NAT64:
            candidates.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    for candidate in candidates:
        if candidate in METADATA_ADDRESSES:
            return f"{address} is a cloud metadata address"
        if any(candidate in net for net in LINK_LOCAL if net.version == candidate.version):
            return f"{address} is link-local"
        if candidate.is_unspecified:
            return f"{address} is the unspecified address"
        if candidate.is_multicast:
            return f"{address} is multicast"
        if candidate.version == 4 and candidate == ipaddress.IPv4Address("255.255.255.255"):
            return f"{address} is broadcast"
    return None


class Guard:
    """Decides whether the engine may talk to an endpoint; see the module docstring."""

    def __init__(
        self,
        allowed: Iterable[str],
        resolver: Resolver | None = None,
        cache_seconds: float = 5.0,
    ):
        self._allowed: dict[tuple, Endpoint] = {}
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
            raise NodeUnreachable(label, f"{host} resolves to no address")
        for address in addresses:
            reason = refusal_reason(address)
            if reason:
                raise EndpointRefused(label, reason)
        return addresses

    def _resolve(self, host: str, port: int, label: str) -> list[str]:
        now = time.monotonic()
        cached = self._cache.get((host, port))
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            addresses = self._resolver(host, port)
        except (OSError, UnicodeError) as exc:
            raise NodeUnreachable(label, f"cannot resolve {host}: {exc}") from None
        if self._cache_seconds > 0:
            self._cache[(host, port)] = (now + self._cache_seconds, list(addresses))
        return addresses


def check_endpoint(url: str, allowed: Iterable[str], resolver: Resolver | None = None) -> Endpoint:
    """Check one URL against an allow-list; raises ``EndpointRefused`` if it may not be used."""
    return Guard(allowed, resolver).check(url)
