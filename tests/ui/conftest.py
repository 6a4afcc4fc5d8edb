"""Page-test fixtures: a logged-in browser per persona."""

import pytest
from django.test import Client

from tests.conftest import login


@pytest.fixture
def browser(db):
    """``browser(user)`` is a Django test client logged in as that user."""

    def make(user):
        return login(Client(), user)

    return make
