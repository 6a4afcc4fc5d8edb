"""The database connection drops in the middle of a request that changes a case: the
answer is a clear 503 ("nothing was saved"), never a 500, and nothing was written: the
case's state is unchanged and no audit event was recorded.

With PostgreSQL (``DATABASE_URL`` names it, as in CI) the request's own server process is
terminated (``pg_terminate_backend``) from another connection between the case's update
and its audit event. On any database the drop is also simulated: the audit event's INSERT
fails with ``OperationalError`` as a dropped connection makes it.
"""

import pytest
from django.db import OperationalError, close_old_connections, connection
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from applications.models import Application
from applications.services import lifecycle
from sandbox_portal.audit.models import AuditEvent
from sandbox_portal.unavailable import MESSAGE
from tests.conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


def take_start_screening(how, people, app):
    """Olivia starts screening Firm A's submitted case, by the page or by the API."""
    if how == "page":
        client = login(Client(), people.olivia)
        url = reverse("case-action", args=[app.pk, "start_screening"])
    else:
        token, _ = Token.objects.get_or_create(user=people.olivia)
        client = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
        url = f"/api/v1/applications/{app.pk}/actions/start_screening/"
    return client, url


def assert_nothing_saved(response, how, app, events_before):
    assert response.status_code == 503, response.content[:500]
    if how == "page":
        body = response.content.decode()
        assert "Database unavailable" in body and "nothing was saved" in body
    else:
        assert response.json() == {"detail": MESSAGE}
    assert response["Retry-After"]
    # As a server does at the end of every request: the broken connection is dropped and
    # the next query opens a fresh one.
    close_old_connections()
    connection.close()
    row = Application.objects.get(pk=app.pk)
    assert row.state == "submitted"
    assert row.case_officer_id is None
    assert AuditEvent.objects.count() == events_before


@pytest.mark.parametrize("how", ["page", "api"])
def test_a_dropped_connection_mid_request_answers_503_and_saves_nothing(
    how, people, submitted_a, monkeypatch
):
    client, url = take_start_screening(how, people, submitted_a)
    real_record = lifecycle.record

    def drop_on_audit_insert(execute, sql, params, many, context):
        if sql.lstrip().upper().startswith("INSERT") and "audit_auditevent" in sql:
            raise OperationalError("server closed the connection unexpectedly (simulated)")
        return execute(sql, params, many, context)

    def record_without_a_connection(*args, **kwargs):
        with connection.execute_wrapper(drop_on_audit_insert):
            return real_record(*args, **kwargs)

    monkeypatch.setattr(lifecycle, "record", record_without_a_connection)
    before = AuditEvent.objects.count()
    response = client.post(url)
    assert_nothing_saved(response, how, submitted_a, before)

    # Once the database answers again, the same request goes through.
    monkeypatch.setattr(lifecycle, "record", real_record)
    response = client.post(url)
    assert response.status_code in (200, 302)
    assert Application.objects.get(pk=submitted_a.pk).state == "screening"


def _kill_connection(pid):
    import psycopg

    params = connection.settings_dict
    conninfo = {
        "dbname": params["NAME"],
        "user": params["USER"] or None,
        "password": params["PASSWORD"] or None,
        "host": params["HOST"] or None,
        "port": params["PORT"] or None,
    }
    with psycopg.connect(**{k: v for k, v in conninfo.items() if v}, autocommit=True) as other:
        (terminated,) = other.execute("SELECT pg_terminate_backend(%s, 10000)", [pid]).fetchone()
    assert terminated, f"backend {pid} was not terminated"


@pytest.mark.parametrize("how", ["page", "api"])
def test_postgresql_terminating_the_requests_backend_answers_503_and_saves_nothing(
    how, people, submitted_a, monkeypatch
):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL=postgres://...; CI runs it)")
    client, url = take_start_screening(how, people, submitted_a)
    real_record = lifecycle.record
    killed = []

    def record_after_the_server_process_is_killed(*args, **kwargs):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            (pid,) = cursor.fetchone()
        _kill_connection(pid)
        killed.append(pid)
        return real_record(*args, **kwargs)

    monkeypatch.setattr(lifecycle, "record", record_after_the_server_process_is_killed)
    before = AuditEvent.objects.count()
    response = client.post(url)
    assert killed, "the request never reached the audit event"
    assert_nothing_saved(response, how, submitted_a, before)

    monkeypatch.setattr(lifecycle, "record", real_record)
    response = client.post(url)
    assert response.status_code in (200, 302)
    assert Application.objects.get(pk=submitted_a.pk).state == "screening"
