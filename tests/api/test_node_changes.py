"""Endpoint changes through the API: a PATCH on a node in review answers 202 with the
request and leaves the node alone; ``/node-changes/`` lists requests in the caller's scope;
only a case officer approves or refuses."""

import pytest

from applications.models import EndpointChangeStatus, Node, NodeEndpointChange
from sandbox_portal.audit.models import AuditEvent
from tests.conftest import advance

from .helpers import API

pytestmark = pytest.mark.django_db

OLD = "http://127.0.0.1:8545"
NEW = "https://node-2.firm-a.test:8545"


@pytest.fixture
def reviewed_a(people, submitted_a):
    """Firm A's case in screening: the regulator has begun with it, and with its node."""
    return advance(submitted_a, people, "screening")


def _patch(client, node, url=NEW, **extra):
    return client.patch(
        f"{API}/nodes/{node.pk}/",
        {"endpoint_url": url, "change_reason": "New data hall.", **extra},
        format="json",
    )


def _request(client_for, node):
    response = _patch(client_for("amir"), node)
    assert response.status_code == 202, response.content
    return response.json()


def test_a_patch_of_the_endpoint_answers_202_with_the_request(client_for, reviewed_a, node_a):
    response = _patch(client_for("amir"), node_a, location="Hall 3")

    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "pending"
    assert (body["old_url"], body["requested_url"]) == (OLD, NEW)
    assert body["reason"] == "New data hall."
    assert body["requested_by"]["username"] == "amir"
    node_a.refresh_from_db()
    assert node_a.endpoint_url == OLD
    assert node_a.location == "Hall 3"
    shown = client_for("amir").get(f"{API}/nodes/{node_a.pk}/").json()
    assert shown["endpoint_url"] == OLD


def test_a_patch_on_a_draft_cases_node_still_changes_it(client_for, draft_a, node_a):
    response = _patch(client_for("amir"), node_a)
    assert response.status_code == 200
    assert response.json()["endpoint_url"] == NEW
    assert not NodeEndpointChange.objects.exists()


def test_a_loopback_endpoint_is_refused_with_400_when_no_network_allows_it(
    client_for, people, settings
):
    settings.OUTGOING_ALLOWED_NETWORKS = []
    response = client_for("amir").post(
        f"{API}/nodes/",
        {"label": "probe", "endpoint_url": "http://127.0.0.1:5432/"},
        format="json",
    )
    assert response.status_code == 400
    assert "loopback" in " ".join(response.json()["errors"]["endpoint_url"])
    assert not Node.objects.exists()


def test_a_loopback_endpoint_is_refused_on_edit_of_a_node_in_review(
    client_for, reviewed_a, node_a, settings
):
    settings.OUTGOING_ALLOWED_NETWORKS = []
    response = _patch(client_for("amir"), node_a, url="http://[::1]:6379/")
    assert response.status_code == 400
    assert "endpoint_url" in response.json()["errors"]
    assert not NodeEndpointChange.objects.exists()


def test_the_list_is_scoped(client_for, people, reviewed_a, node_a):
    change = _request(client_for, node_a)
    for name, expected in [
        ("alice", [change["id"]]),
        ("amir", [change["id"]]),
        ("olivia", [change["id"]]),
        ("victor", [change["id"]]),
        ("bella", []),
        ("audrey", []),
        ("staff", [change["id"]]),
    ]:
        response = client_for(name).get(f"{API}/node-changes/")
        assert response.status_code == 200, name
        assert [row["id"] for row in response.json()["results"]] == expected, name
    assert client_for(None).get(f"{API}/node-changes/").status_code == 401
    pending = client_for("olivia").get(f"{API}/node-changes/", {"status": "pending"})
    assert pending.json()["count"] == 1
    assert client_for("olivia").get(f"{API}/node-changes/", {"node": "x"}).status_code == 400


def test_another_firms_request_is_not_found(client_for, reviewed_a, node_a):
    change = _request(client_for, node_a)
    bella = client_for("bella")
    assert bella.get(f"{API}/node-changes/{change['id']}/").status_code == 404
    assert bella.post(f"{API}/node-changes/{change['id']}/approve/").status_code == 404
    assert client_for("audrey").get(f"{API}/node-changes/{change['id']}/").status_code == 404


def test_the_case_officer_approves(client_for, people, reviewed_a, node_a):
    change = _request(client_for, node_a)
    response = client_for("olivia").post(
        f"{API}/node-changes/{change['id']}/approve/", {"note": "Seen."}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "approved"
    assert response.json()["decided_by"]["username"] == "olivia"
    node_a.refresh_from_db()
    assert node_a.endpoint_url == NEW
    event = AuditEvent.objects.get(action="node.endpoint_change_approve")
    assert (event.before, event.after["endpoint_url"]) == ({"endpoint_url": OLD}, NEW)
    again = client_for("olivia").post(f"{API}/node-changes/{change['id']}/refuse/", {"note": "x"})
    assert again.status_code == 409


def test_the_case_officer_refuses_with_a_note(client_for, reviewed_a, node_a):
    change = _request(client_for, node_a)
    olivia = client_for("olivia")
    url = f"{API}/node-changes/{change['id']}/refuse/"
    assert olivia.post(url, {}, format="json").status_code == 400
    assert olivia.post(url, {"note": "x", "status": "approved"}, format="json").status_code == 400
    response = olivia.post(url, {"note": "Not in a registered hall."}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "refused"
    node_a.refresh_from_db()
    assert node_a.endpoint_url == OLD


@pytest.mark.parametrize("name", ["alice", "amir", "victor", "staff"])
def test_the_firm_and_others_cannot_approve(client_for, reviewed_a, node_a, name):
    change = _request(client_for, node_a)
    for decision in ("approve", "refuse"):
        response = client_for(name).post(
            f"{API}/node-changes/{change['id']}/{decision}/", {"note": "Fine."}, format="json"
        )
        assert response.status_code == 403, (name, decision)
    node_a.refresh_from_db()
    assert node_a.endpoint_url == OLD
    assert NodeEndpointChange.objects.get().status == EndpointChangeStatus.PENDING
