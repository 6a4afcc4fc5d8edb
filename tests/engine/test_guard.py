"""The guard refuses endpoints outside the allow-list, link-local and metadata addresses,
before any connection is made."""

import socket

import pytest

from assessments.engine import rpc as rpc_module
from assessments.engine.errors import EndpointRefused, NodeUnreachable
from assessments.engine.guard import Guard, check_endpoint, parse_endpoint, refusal_reason
from assessments.engine.rpc import AsyncRpcClient, RpcClient
from tests.engine.helpers import Listener


def resolver_to(*addresses):
    return lambda host, port: list(addresses)


def test_it_allows_a_registered_loopback_endpoint():
    endpoint = check_endpoint("http://127.0.0.1:8545", ["http://127.0.0.1:8545/"])
    assert (endpoint.host, endpoint.port) == ("127.0.0.1", 8545)


def test_it_refuses_an_endpoint_outside_the_allow_list():
    with pytest.raises(EndpointRefused, match="not one of the case's registered nodes"):
        check_endpoint("http://127.0.0.1:8546", ["http://127.0.0.1:8545"])


def test_it_compares_scheme_port_and_path():
    allowed = ["https://node.example.test/rpc"]
    guard = Guard(allowed, resolver=resolver_to("10.1.2.3"))
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
    guard = Guard(["http://chain.example.test"], resolver=resolver_to("10.0.0.5", "fe80::5"))
    with pytest.raises(EndpointRefused, match="link-local"):
        guard.check("http://chain.example.test")


def test_it_allows_private_network_addresses():
    assert refusal_reason("10.0.0.5") is None
    assert refusal_reason("192.168.1.20") is None
    assert refusal_reason("::1") is None
    assert "link-local" in refusal_reason("169.254.1.1")


@pytest.mark.parametrize(
    "url", ["ftp://127.0.0.1/", "http://user:pw@127.0.0.1:8545", "127.0.0.1:8545", "", "http://"]
)
def test_it_refuses_what_is_not_an_endpoint(url):
    with pytest.raises(EndpointRefused):
        parse_endpoint(url)


def test_an_unresolvable_name_is_unreachable_not_refused():
    def fail(host, port):
        raise socket.gaierror("Name or service not known")

    with pytest.raises(NodeUnreachable, match="cannot resolve"):
        Guard(["http://nowhere.invalid"], resolver=fail).check("http://nowhere.invalid")


def test_the_client_makes_no_connection_to_an_endpoint_outside_the_allow_list():
    listener = Listener()
    try:
        with pytest.raises(EndpointRefused):
            RpcClient(listener.url, allowed=["http://127.0.0.1:1"])
        assert listener.accepted() == 0
        # The same listener, once allowed, is reached: the count above could have moved.
        with pytest.raises(NodeUnreachable):
            RpcClient(listener.url, allowed=[listener.url], timeout=0.5, read_retries=0).call(
                "eth_chainId"
            )
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
    guard = Guard(
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
    guard = Guard([url], resolver=lambda h, p: next(answers), cache_seconds=0)
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

    guard = Guard(["http://chain.example.test:8545"], resolver=resolver, cache_seconds=60)
    guard.check("http://chain.example.test:8545")
    assert guard.connect_addresses("chain.example.test", 8545) == ["127.0.0.1"]
    assert lookups == ["chain.example.test"]
