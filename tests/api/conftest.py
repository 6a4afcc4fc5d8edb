"""API clients for the personas, authenticated with their API tokens."""

import pytest
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient


@pytest.fixture(autouse=True)
def _fresh_throttle():
    # The login throttle counts in the cache; each test starts with none used.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def client_for(people):
    """``client_for("alice")``: an API client sending alice's token."""

    def make(name):
        client = APIClient()
        if name is not None:
            token, _ = Token.objects.get_or_create(user=getattr(people, name))
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return make
