"""Helpers for the firm's pages: a logged-in client per persona, a zone, and
files to upload."""

import pytest
from django.test import Client

from applications.models import Zone, ZoneKind
from tests.conftest import login as log_in

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"


@pytest.fixture
def as_user(people):
    """``as_user("alice")``: a test client logged in as that persona."""

    def login(name):
        return log_in(Client(), getattr(people, name))

    return login


@pytest.fixture
def zone(db):
    return Zone.objects.create(
        name="Riverside Technology Park",
        kind=ZoneKind.TECH_PARK,
        policies="Hosted firms keep servers in the park's data hall.",
    )
