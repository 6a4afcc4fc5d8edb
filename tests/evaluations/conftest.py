"""Cases with finished test runs, for the evaluation tests."""

import pytest
from rest_framework.test import APIClient

from tests.conftest import advance, login

from . import samples


@pytest.fixture
def testing_a(people, submitted_a):
    """Firm A's case in technical testing, every eligibility criterion met."""
    return advance(submitted_a, people, "technical_testing")


@pytest.fixture
def good_runs(people, testing_a):
    """Two finished runs of Firm A's case: protocol suites, then application suites."""
    first = samples.finished_run(
        testing_a,
        people.olivia,
        [samples.block(), samples.crypto(), samples.consensus()],
    )
    second = samples.finished_run(testing_a, people.olivia, [samples.payment(), samples.clearing()])
    return [first, second]


@pytest.fixture
def api(people):
    def client_for(name):
        client = APIClient()
        client.force_authenticate(getattr(people, name))
        return client

    return client_for


@pytest.fixture
def browser(db):
    """``browser(user)`` is a Django test client logged in as that user."""
    from django.test import Client

    def make(user):
        return login(Client(), user)

    return make
