"""Two approvers decide one recommended case at the same moment, each on a database
connection of their own: exactly one decision is recorded, with one audit event, and the
other approver is told the case has already moved on (409), by the page and by the API.

Both requests pass the role and state check first and only then meet at a barrier, just
before the service locks the case's row (``select_for_update`` on PostgreSQL; SQLite's
immediate transactions on SQLite): the lock, not luck, decides which one wins.
"""

import threading
from contextlib import contextmanager

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from applications.models import Application, Decision
from applications.services import lifecycle
from sandbox_portal.audit.models import AuditEvent
from sandbox_portal.audit.services import verify_chain
from tests.conftest import advance, login

pytestmark = pytest.mark.django_db(transaction=True)

DECISIONS = {
    "victor": {"outcome": "admit", "rationale": "Ready for the sandbox."},
    "vera": {"outcome": "reject", "rationale": "Not ready."},
}
STATE_OF = {"admit": "admitted", "reject": "rejected"}


@pytest.fixture
def recommended_a(people, submitted_a):
    """Firm A's case, recommended by olivia: victor and vera may both decide it."""
    return advance(submitted_a, people, "recommended")


@pytest.fixture
def meet_at_the_lock(monkeypatch):
    """Both deciders wait for each other just before the case's row is locked."""
    barrier = threading.Barrier(2, timeout=30)
    real = lifecycle.locked_application

    @contextmanager
    def gated(application):
        barrier.wait()
        with real(application) as app:
            yield app

    monkeypatch.setattr(lifecycle, "locked_application", gated)
    return barrier


def decide_at_once(people, send):
    """Run ``send(name)`` for both approvers in threads (each with its own database
    connection); return their responses by name."""
    responses, errors = {}, {}

    def work(name):
        try:
            responses[name] = send(name)
        except Exception as exc:  # reported below with the approver's name
            errors[name] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(name,)) for name in DECISIONS]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a decision never came back"
    assert not errors, errors
    return responses


def assert_one_decision(app, responses, winner_status, loser_check):
    winners = [n for n, r in responses.items() if r.status_code == winner_status]
    losers = [n for n, r in responses.items() if r.status_code == 409]
    assert len(winners) == 1 and len(losers) == 1, {
        n: (r.status_code, r.content[:300]) for n, r in responses.items()
    }
    (winner,), (loser,) = winners, losers
    loser_check(responses[loser])
    decision = Decision.objects.get(application=app)
    assert decision.decided_by.username == winner
    assert decision.outcome == DECISIONS[winner]["outcome"]
    assert Application.objects.get(pk=app.pk).state == STATE_OF[DECISIONS[winner]["outcome"]]
    events = AuditEvent.objects.filter(action="application.decide", application_id=app.pk)
    assert events.count() == 1
    assert events.get().actor.username == winner
    assert verify_chain().intact


def test_two_approvers_deciding_at_once_on_the_page(people, recommended_a, meet_at_the_lock):
    clients = {name: login(Client(), getattr(people, name)) for name in DECISIONS}
    url = reverse("case-action", args=[recommended_a.pk, "decide"])
    responses = decide_at_once(people, lambda name: clients[name].post(url, DECISIONS[name]))

    def told_why(response):
        body = response.content.decode()
        assert "This cannot be done now" in body
        assert "cannot be taken now" in body

    assert_one_decision(recommended_a, responses, 302, told_why)


def test_two_approvers_deciding_at_once_by_the_api(people, recommended_a, meet_at_the_lock):
    clients = {}
    for name in DECISIONS:
        token, _ = Token.objects.get_or_create(user=getattr(people, name))
        clients[name] = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
    url = f"/api/v1/applications/{recommended_a.pk}/actions/decide/"
    responses = decide_at_once(
        people,
        lambda name: clients[name].post(url, DECISIONS[name], content_type="application/json"),
    )

    def told_why(response):
        assert response["Content-Type"] == "application/json"
        assert "cannot be taken now" in response.json()["detail"]

    assert_one_decision(recommended_a, responses, 200, told_why)
