"""API fuzzing: schemathesis generates requests from /api/schema/ and sends them to the
WSGI application in-process, as a firm admin (alice) and as a case officer (olivia).

Every response must be a non-5xx that conforms to the schema: a documented status code,
a documented content type and a body that matches the documented response schema.
Celery work is never started: the services queue tasks after commit, and a test's
transaction never commits.
"""

import collections

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from sandbox_portal.wsgi import application

# Schemathesis's parametrization is not shared out correctly by pytest-xdist: run alone.
pytestmark = pytest.mark.serial

# Examples per operation and persona; with the schema's operations this is well over
# 1,000 requests in all, and the module runs in about a minute.
EXAMPLES_PER_OPERATION = 14
FUZZ_PERSONAS = ["alice", "olivia"]
SENT = collections.Counter()
# No server error, and a response the schema documents: its status code, content type,
# headers and body. (Whether the API accepts every schema-valid body is not asked: the
# services refuse content the schema cannot express, with a documented 400 or 409.)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    # Requests go through the WSGI handler, which closes the database connection when a
    # request finishes; the test's transaction lives on that connection (Django's own test
    # client disconnects the same handler).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


# Loaded once, at collection: generating the schema reads no database.
schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


def _token(people, name):
    return Token.objects.get_or_create(user=getattr(people, name))[0].key


def _send(case, persona, token):
    SENT[(case.operation.label, persona)] += 1
    case.call_and_validate(headers={"Authorization": f"Token {token}"}, checks=CHECKS)


FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def alice_token(firm_a_objects, people):
    return _token(people, "alice")


@pytest.fixture
def olivia_token(firm_a_objects, people):
    return _token(people, "olivia")


@schema.parametrize()
@FUZZ_SETTINGS
def test_the_api_answers_a_firm_admin_within_its_schema(case, alice_token):
    _send(case, "alice", alice_token)


@schema.parametrize()
@FUZZ_SETTINGS
def test_the_api_answers_a_case_officer_within_its_schema(case, olivia_token):
    _send(case, "olivia", olivia_token)


def test_the_fuzzing_sent_at_least_a_thousand_requests():
    if len({persona for _, persona in SENT}) < len(FUZZ_PERSONAS):
        pytest.skip("the fuzzing tests of this module did not all run")
    assert sum(SENT.values()) >= 1000, SENT
