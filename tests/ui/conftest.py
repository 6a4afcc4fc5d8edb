"""Page-test fixtures: a logged-in browser per persona."""

import pytest
from django.test import Client


@pytest.fixture
def browser(db):
    """``browser(user)`` is a Django test client logged in as that user."""

    def make(user):
        client = Client()
        client.force_login(user)
        return client

    return make
