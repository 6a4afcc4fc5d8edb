"""The guard refuses endpoints outside the allow-list, and every address outside the public
internet unless a permitted network lists it (metadata addresses always), before any
connection is made."""

import socket

import pytest

from assessments.engine import rpc as rpc_module
from assessments.engine.errors import EndpointRefused, NodeUnreachable
from assessments.engine.guard import (
    Guard,
    check_endpoint,
    parse_endpoint,
    refusal_reason,
    registration_refusal,
)
from assessments.engine.results import Target
from assessments.engine.rpc import AsyncRpcClient, RpcClient
from tests.engine.helpers import Listener

LOOPBACK = ["127.0.0.1/32"]
PUBLIC = "93.184.215.14"


def resolver_to(*addresses):
    return lambda host, port: list(addresses)


def loopback_guard(allowed, **kwargs):
    return Guard(allowed, allowed_networks=LOOPBACK, **kwargs)


def test_it_allows_a_registered_loopback_endpoint_when_loopback_is_permitted():
    url = "http://127.0.0.1:8545"
    endpoint = check_endpoint(url, [url + "/"], allowed_networks=LOOPBACK)
    assert (endpoint.host, endpoint.port) == ("127.0.0.1", 8545)
    with pytest.raises(EndpointRefused, match="loopback"):
        check_endpoint(url, [url])


def test_it_refuses_an_endpoint_outside_the_allow_list():
    with pytest.raises(EndpointRefused, match="not one of the case's registered nodes"):
        check_endpoint("http://127.0.0.1:8546", ["http://127.0.0.1:8545"])


def test_it_compares_scheme_port_and_path():
    allowed = ["https://node.example.test/rpc"]
    guard = Guard(allowed, resolver=resolver_to(PUBLIC))
    assert guard.check("https://NODE.example.test:443/rpc/").host == "node.example.test"
    for other in (
        "http://node.example.test/rpc",
        "https://node.example.test:8443/rpc",
        "https://node.example.test/admin",
    ):
        with pytest.raises(EndpointRefused):
            guard.check(other)


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://169.254.10.20:8545",
        "http://[fe80::1]:8545",
        "http://[fd00:ec2::254]/",
        "http://[::ffff:169.254.169.254]/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://0.0.0.0:8545",
    ],
)
def test_it_refuses_link_local_and_metadata_endpoints_even_when_registered(url):
    with pytest.raises(EndpointRefused):
        check_endpoint(url, [url])


def test_it_refuses_a_name_that_resolves_to_a_metadata_address():
    guard = Guard(["http://chain.example.test:8545"], resolver=resolver_to("169.254.169.254"))
    with pytest.raises(EndpointRefused, match="metadata"):
        guard.check("http://chain.example.test:8545")


def test_one_bad_address_taints_a_name():
    guard = Guard(
        ["http://chain.example.test"],
        resolver=resolver_to("10.0.0.5", "fe80::5"),
        allowed_networks=["10.0.0.0/8"],
    )
    with pytest.raises(EndpointRefused, match="link-local"):
        guard.check("http://chain.example.test")


def test_it_allows_private_network_addresses_only_when_listed():
    assert "private" in refusal_reason("10.0.0.5")
    assert refusal_reason("10.0.0.5", ["10.0.0.0/8"]) is None
    assert refusal_reason("192.168.1.20", ["192.168.1.0/24"]) is None
    assert "private" in refusal_reason("192.168.2.20", ["192.168.1.0/24"])
    assert refusal_reason("::1", ["::1/128"]) is None
    assert "link-local" in refusal_reason("169.254.1.1")
    assert refusal_reason(PUBLIC) is None
    assert refusal_reason("2606:4700:4700::1111") is None


@pytest.mark.parametrize(
    "url", ["ftp://127.0.0.1/", "http://user:pw@127.0.0.1:8545", "127.0.0.1:8545", "", "http://"]
)
def test_it_refuses_what_is_not_an_endpoint(url):
    with pytest.raises(EndpointRefused):
        parse_endpoint(url)


def test_an_unresolvable_name_is_unreachable_not_refused():
    def fail(host, port):
        raise socket.gaierror("Name or service not known")

    with pytest.raises(NodeUnreachable, match="name not resolved"):
        Guard(["http://nowhere.invalid"], resolver=fail).check("http://nowhere.invalid")


def test_the_client_makes_no_connection_to_an_endpoint_outside_the_allow_list():
    listener = Listener()
    try:
        with pytest.raises(EndpointRefused):
            RpcClient(listener.url, allowed=["http://127.0.0.1:1"])
        assert listener.accepted() == 0
        # The same listener, once allowed, is reached: the count above could have moved.
        with pytest.raises(NodeUnreachable):
            RpcClient(
                listener.url, allowed=loopback_guard([listener.url]), timeout=0.5, read_retries=0
            ).call("eth_chainId")
        assert listener.accepted() == 1
    finally:
        listener.close()


def test_the_client_opens_no_socket_to_a_link_local_address(monkeypatch):
    opened = []
    real_socket = socket.socket

    def spy(*args, **kwargs):
        opened.append(args)
        return real_socket(*args, **kwargs)

    monkeypatch.setattr(socket, "socket", spy)
    url = "http://169.254.169.254:8545"
    with pytest.raises(EndpointRefused, match="metadata"):
        RpcClient(url, allowed=[url]).call("eth_chainId")
    assert opened == []


def test_the_client_checks_every_request_and_every_connection(monkeypatch):
    """A name that turns into a link-local address after the first check is refused."""
    answers = iter([["127.0.0.1"], ["169.254.7.7"]])
    guard = loopback_guard(
        ["http://rebinding.example.test:9"], resolver=lambda h, p: next(answers), cache_seconds=0
    )
    client = RpcClient("http://rebinding.example.test:9", allowed=guard)
    connects = []
    monkeypatch.setattr(
        rpc_module.httpcore.SyncBackend,
        "connect_tcp",
        lambda *a, **k: connects.append(a) or pytest.fail("a socket was opened"),
    )
    with pytest.raises(EndpointRefused, match="link-local"):
        client.call("eth_chainId")
    assert connects == []


async def _async_call(url, allowed):
    async with AsyncRpcClient(url, allowed=allowed) as client:
        return await client.call("eth_chainId")


def test_the_async_client_is_guarded_too():
    import asyncio

    listener = Listener()
    try:
        with pytest.raises(EndpointRefused):
            asyncio.run(_async_call(listener.url, ["http://127.0.0.1:1"]))
        assert listener.accepted() == 0
    finally:
        listener.close()


def test_the_connection_goes_only_to_an_address_checked_at_connect_time():
    """Checked at request time, the name turns link-local when the socket is opened."""
    listener = Listener()
    answers = iter([["127.0.0.1"], ["127.0.0.1"], ["169.254.7.7"]])
    url = f"http://rebinding.example.test:{listener.port}"
    guard = loopback_guard([url], resolver=lambda h, p: next(answers), cache_seconds=0)
    try:
        with pytest.raises(EndpointRefused, match="link-local"):
            RpcClient(url, allowed=guard, read_retries=0).call("eth_chainId")
        assert listener.accepted() == 0
    finally:
        listener.close()


def test_within_its_cache_window_the_guard_connects_to_the_answer_it_checked():
    lookups = []

    def resolver(host, port):
        lookups.append(host)
        return ["127.0.0.1"] if len(lookups) == 1 else ["169.254.7.7"]

    guard = loopback_guard(["http://chain.example.test:8545"], resolver=resolver, cache_seconds=60)
    guard.check("http://chain.example.test:8545")
    assert guard.connect_addresses("chain.example.test", 8545) == ["127.0.0.1"]
    assert lookups == ["chain.example.test"]


# Special ranges --------------------------------------------------------------------------

REFUSED_BY_DEFAULT = [
    "127.0.0.1",
    "127.8.9.10",
    "::1",
    "::ffff:127.0.0.1",
    "::169.254.169.254",
    "::10.0.0.1",
    "192.0.0.192",
    "0.0.0.1",
    "0.0.0.0",
    "::",
    "100.64.0.1",
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.1",
    "fd00::1",
    "fe80::1",
    "169.254.1.1",
    "192.0.2.1",
    "198.51.100.1",
    "203.0.113.1",
    "198.18.0.1",
    "2001:db8::1",
    "224.0.0.1",
    "239.1.2.3",
    "ff02::1",
    "240.0.0.1",
    "255.255.255.255",
    "2002:7f00:1::",  # 6to4 of 127.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
]


@pytest.mark.parametrize("address", REFUSED_BY_DEFAULT)
def test_every_special_range_is_refused_by_default(address):
    assert refusal_reason(address) is not None
    host = f"[{address}]" if ":" in address else address
    url = f"http://{host}:8545"
    with pytest.raises(EndpointRefused):
        check_endpoint(url, [url])
    assert registration_refusal(url) is not None


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("127.0.0.1", "127.0.0.1/32"),
        ("::ffff:127.0.0.1", "127.0.0.1/32"),
        ("::1", "::1/128"),
        ("10.0.0.1", "10.0.0.0/8"),
        ("100.64.0.1", "100.64.0.0/10"),
        ("fd00::1", "fd00::/8"),
        ("192.0.0.192", "192.0.0.0/24"),
    ],
)
def test_a_special_address_is_allowed_when_its_network_is_listed(address, network):
    assert refusal_reason(address, [network]) is None
    host = f"[{address}]" if ":" in address else address
    url = f"http://{host}:8545"
    assert check_endpoint(url, [url], allowed_networks=[network]).port == 8545
    assert registration_refusal(url, [network]) is None


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("169.254.169.254", "169.254.0.0/16"),
        ("169.254.169.254", "0.0.0.0/0"),
        ("::169.254.169.254", "::/0"),
        ("::ffff:169.254.169.254", "169.254.0.0/16"),
        ("fd00:ec2::254", "fc00::/7"),
        ("100.100.100.200", "100.64.0.0/10"),
    ],
)
def test_metadata_addresses_stay_refused_when_their_network_is_listed(address, network):
    assert "metadata" in refusal_reason(address, [network])
    host = f"[{address}]" if ":" in address else address
    url = f"http://{host}/"
    with pytest.raises(EndpointRefused, match="metadata"):
        check_endpoint(url, [url], allowed_networks=[network])
    assert "metadata" in registration_refusal(url, [network])


def test_an_embedding_is_refused_unless_what_it_embeds_is_listed():
    # The 6to4 range listed does not permit the loopback address inside it.
    assert "127.0.0.1" in refusal_reason("2002:7f00:1::", ["2002::/16"])
    assert refusal_reason("2002:7f00:1::", ["2002::/16", "127.0.0.1/32"]) is None


def test_a_name_resolving_to_loopback_is_refused_by_default():
    url = "http://chain.example.test:8545"
    guard = Guard([url], resolver=resolver_to(PUBLIC, "127.0.0.1"))
    with pytest.raises(EndpointRefused, match="loopback") as refused:
        guard.check(url)
    # The kind of address, not the address a name resolved to.
    assert "127.0.0.1" not in refused.value.reason
    assert loopback_guard([url], resolver=resolver_to("127.0.0.1")).check(url).port == 8545


def test_registration_refusal_says_why_without_connecting():
    to_loopback = resolver_to("127.0.0.1")
    assert "loopback" in registration_refusal("http://node.example.test", resolver=to_loopback)
    assert registration_refusal("http://node.example.test", LOOPBACK, to_loopback) is None
    assert registration_refusal("https://node.example.test", resolver=resolver_to(PUBLIC)) is None
    assert "scheme" in registration_refusal("ftp://node.example.test/")
    assert "credentials" in registration_refusal("http://u:p@node.example.test/")
    assert "metadata" in registration_refusal("http://metadata.google.internal/")
    assert "longer" in registration_refusal("http://node.example.test/" + "a" * 3000)
    # One refused address among public ones taints the name.
    mixed = resolver_to(PUBLIC, "10.1.2.3")
    assert "private" in registration_refusal("http://node.example.test", resolver=mixed)


def test_an_unresolvable_name_is_not_a_refusal_at_registration():
    def fail(host, port):
        raise socket.gaierror(-2, "Name or service not known")

    assert registration_refusal("http://nowhere.invalid:8545", resolver=fail) is None


def test_a_malformed_permitted_network_is_an_error():
    with pytest.raises(ValueError, match="not an IP network"):
        Guard(["http://node.example.test"], allowed_networks=["not-a-network"])
    with pytest.raises(ValueError, match="not an IP network"):
        Target(["http://node.example.test"], ["http://node.example.test"], allowed_networks=["x"])


def test_a_targets_guard_carries_its_networks():
    url = "http://127.0.0.1:8545"
    with pytest.raises(EndpointRefused, match="loopback"):
        Target([url], [url]).guard().check(url)
    assert Target([url], [url], allowed_networks=LOOPBACK).guard().check(url).port == 8545


def test_the_client_opens_no_socket_to_a_refused_loopback_endpoint():
    listener = Listener()
    try:
        with pytest.raises(EndpointRefused, match="loopback"):
            RpcClient(listener.url, allowed=[listener.url], read_retries=0).call("eth_chainId")
        assert listener.accepted() == 0
    finally:
        listener.close()
