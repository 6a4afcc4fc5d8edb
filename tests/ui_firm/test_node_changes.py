"""Endpoint changes through the pages: the firm's edit page says the change needs the
case officer, the node list marks it pending, and the case officer decides on the case
page with POST forms."""

import pytest
from django.urls import reverse

from applications.models import EndpointChangeStatus, Node, NodeEndpointChange
from tests.conftest import advance

pytestmark = pytest.mark.django_db

OLD = "http://127.0.0.1:8545"
NEW = "https://node-2.firm-a.test:8545"
NOTICE = b"Endpoint changes on nodes in review need the case officer's approval"


@pytest.fixture
def reviewed_a(people, submitted_a):
    return advance(submitted_a, people, "under_review")


def _edit(client, node, url=NEW, **extra):
    return client.post(
        reverse("node-edit", args=[node.pk]),
        {"label": node.label, "endpoint_url": url, "change_reason": "New hall.", **extra},
        follow=True,
    )


def test_a_member_changing_the_endpoint_of_a_node_in_review_gets_a_pending_request(
    reviewed_a, node_a, as_user
):
    client = as_user("amir")
    page = client.get(reverse("node-edit", args=[node_a.pk]))
    assert NOTICE in page.content

    response = _edit(client, node_a)
    assert response.status_code == 200
    assert b"waits for the case officer" in response.content
    assert b"change pending" in response.content, "the node list marks the node"
    node_a.refresh_from_db()
    assert node_a.endpoint_url == OLD
    change = NodeEndpointChange.objects.get()
    assert (change.requested_url, change.reason) == (NEW, "New hall.")

    page = client.get(reverse("node-edit", args=[node_a.pk]))
    assert b"Endpoint change pending" in page.content
    assert NEW.encode() in page.content


def test_a_draft_cases_node_changes_at_once_without_the_notice(draft_a, node_a, as_user):
    client = as_user("amir")
    assert NOTICE not in client.get(reverse("node-edit", args=[node_a.pk])).content
    response = _edit(client, node_a)
    assert b"change pending" not in response.content
    node_a.refresh_from_db()
    assert node_a.endpoint_url == NEW


def test_a_loopback_endpoint_is_a_form_error_when_no_network_allows_it(people, as_user, settings):
    settings.OUTGOING_ALLOWED_NETWORKS = []
    response = as_user("amir").post(
        reverse("node-new"), {"label": "probe", "endpoint_url": "http://127.0.0.1:22/"}
    )
    assert response.status_code == 400
    assert "loopback" in " ".join(response.context["form"].errors["endpoint_url"])
    assert not Node.objects.exists()


def test_the_case_officer_sees_the_request_on_the_case_page_and_approves_it(
    reviewed_a, node_a, as_user
):
    _edit(as_user("amir"), node_a)
    change = NodeEndpointChange.objects.get()
    olivia = as_user("olivia")
    case_page = olivia.get(reverse("case-detail", args=[reviewed_a.pk]))
    assert b"Endpoint changes awaiting approval" in case_page.content
    assert reverse("node-change-approve", args=[change.pk]).encode() in case_page.content
    assert b"1 pending" in olivia.get(reverse("dashboard")).content

    response = olivia.post(
        reverse("node-change-approve", args=[change.pk]), {"case": reviewed_a.pk, "note": ""}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("case-detail", args=[reviewed_a.pk])
    node_a.refresh_from_db()
    assert node_a.endpoint_url == NEW
    assert b"Endpoint changes awaiting approval" not in olivia.get(response["Location"]).content


def test_a_refusal_needs_a_note(reviewed_a, node_a, as_user):
    _edit(as_user("amir"), node_a)
    change = NodeEndpointChange.objects.get()
    olivia = as_user("olivia")
    url = reverse("node-change-refuse", args=[change.pk])

    blank = olivia.post(url, {"case": reviewed_a.pk, "note": " "})
    assert blank.status_code == 400
    assert b"Say why the change is refused." in blank.content
    assert NodeEndpointChange.objects.get().status == EndpointChangeStatus.PENDING

    refused = olivia.post(url, {"case": reviewed_a.pk, "note": "Unknown hall."})
    assert refused.status_code == 302
    assert NodeEndpointChange.objects.get().status == EndpointChangeStatus.REFUSED
    node_a.refresh_from_db()
    assert node_a.endpoint_url == OLD


@pytest.mark.parametrize("name", ["alice", "amir", "bella", "victor", "audrey"])
def test_nobody_but_a_case_officer_can_decide(reviewed_a, node_a, as_user, name):
    _edit(as_user("amir"), node_a)
    change = NodeEndpointChange.objects.get()
    client = as_user(name)
    for route in ("node-change-approve", "node-change-refuse"):
        response = client.post(reverse(route, args=[change.pk]), {"note": "Fine."})
        assert response.status_code == 404, (name, route)
    assert client.get(reverse("node-change-approve", args=[change.pk])).status_code == 405
    node_a.refresh_from_db()
    assert node_a.endpoint_url == OLD
    assert NodeEndpointChange.objects.get().status == EndpointChangeStatus.PENDING


def test_the_firm_sees_the_pending_request_on_its_case_page_without_the_forms(
    reviewed_a, node_a, as_user
):
    _edit(as_user("amir"), node_a)
    change = NodeEndpointChange.objects.get()
    page = as_user("alice").get(reverse("case-detail", args=[reviewed_a.pk]))
    assert b"Endpoint changes awaiting approval" in page.content
    assert reverse("node-change-approve", args=[change.pk]).encode() not in page.content
