"""Login lockouts and API throttles count by the client's real address: REMOTE_ADDR by
default, the trusted proxies' X-Forwarded-For entry only when TRUSTED_PROXY_COUNT says
proxies stand in front, and never an address a client wrote itself."""

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client, RequestFactory
from rest_framework.request import Request
from rest_framework.throttling import AnonRateThrottle

from sandbox_portal.accounts.throttling import client_ip

LOGIN = "/accounts/login/"
PROXY = "10.0.0.2"
CLIENT_A = "203.0.113.5"
CLIENT_B = "198.51.100.7"


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()
    yield
    cache.clear()


def fail_logins(username, times, **meta):
    for _ in range(times):
        response = Client().post(LOGIN, {"username": username, "password": "wrong"}, **meta)
        assert response.status_code in (200, 429)


def logs_in(username, **meta):
    response = Client().post(LOGIN, {"username": username, "password": "pw"}, **meta)
    return response.status_code == 302


def request(**meta):
    return RequestFactory().get("/", **meta)


def test_by_default_the_address_is_remote_addr_and_the_header_is_ignored(people):
    assert settings.TRUSTED_PROXY_COUNT == 0
    assert client_ip(request(REMOTE_ADDR=CLIENT_A, HTTP_X_FORWARDED_FOR=CLIENT_B)) == CLIENT_A
    # Changing X-Forwarded-For on every try does not escape the lockout.
    for i in range(settings.AXES_FAILURE_LIMIT):
        Client().post(
            LOGIN,
            {"username": "alice", "password": "wrong"},
            REMOTE_ADDR=CLIENT_A,
            HTTP_X_FORWARDED_FOR=f"192.0.2.{i + 1}",
        )
    assert not logs_in("alice", REMOTE_ADDR=CLIENT_A, HTTP_X_FORWARDED_FOR="192.0.2.99")
    # Another address is not locked out.
    assert logs_in("alice", REMOTE_ADDR=CLIENT_B)


def test_behind_a_trusted_proxy_each_client_is_counted_on_its_own(people, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    fail_logins(
        "alice", settings.AXES_FAILURE_LIMIT, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=CLIENT_A
    )
    assert not logs_in("alice", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=CLIENT_A)
    # The proxy's address is shared by everyone; the other client is not locked out.
    assert logs_in("alice", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=CLIENT_B)


def test_behind_a_trusted_proxy_a_client_cannot_pick_its_address(people, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    fail_logins(
        "alice", settings.AXES_FAILURE_LIMIT, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=CLIENT_A
    )
    # Client A writes client B's address in front: the proxy appends A's real address.
    spoofed = f"{CLIENT_B}, {CLIENT_A}"
    assert not logs_in("alice", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=spoofed)


@pytest.mark.parametrize(
    ("proxies", "header", "expected"),
    [
        (1, CLIENT_A, CLIENT_A),
        (1, f"{CLIENT_B}, {CLIENT_A}", CLIENT_A),
        (2, f"{CLIENT_A}, 10.0.0.9", CLIENT_A),
        (2, f"{CLIENT_B}, {CLIENT_A}, 10.0.0.9", CLIENT_A),
        # Fewer entries than proxies, or no header (a request that did not come through
        # the proxies): the connection's own address.
        (2, CLIENT_A, PROXY),
        (1, None, PROXY),
        (1, "not-an-address", PROXY),
    ],
)
def test_the_client_address_behind_proxies(settings, proxies, header, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    meta = {"REMOTE_ADDR": PROXY}
    if header is not None:
        meta["HTTP_X_FORWARDED_FOR"] = header
    assert client_ip(request(**meta)) == expected


def test_the_api_throttles_ignore_a_forwarded_for_header_without_trusted_proxies():
    throttle = AnonRateThrottle()
    spoofed = Request(request(REMOTE_ADDR=CLIENT_A, HTTP_X_FORWARDED_FOR=CLIENT_B))
    assert throttle.get_ident(spoofed) == CLIENT_A
