"""Projects, the server station, personnel and zone registrations through the pages."""

import pytest
from django.urls import reverse

from applications.models import Node, Personnel, Project, ZoneRegistration
from sandbox_portal.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_it_creates_a_project(people, as_user):
    client = as_user("alice")
    response = client.post(
        reverse("project-new"),
        {"name": "PayChain", "category": "payment", "description": "Instant payments."},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("projects")
    project = Project.objects.get(firm=people.firm_a, name="PayChain")
    assert AuditEvent.objects.filter(action="project.create", object_id=str(project.pk)).exists()
    page = client.get(reverse("projects"))
    assert b"PayChain" in page.content


def test_it_edits_a_project(project_a, as_user):
    client = as_user("amir")
    response = client.post(
        reverse("project-edit", args=[project_a.pk]),
        {"name": "PayChain 2", "category": "clearing", "description": ""},
    )
    assert response.status_code == 302
    project_a.refresh_from_db()
    assert (project_a.name, project_a.category) == ("PayChain 2", "clearing")
    assert AuditEvent.objects.filter(action="project.update").exists()


def test_it_registers_a_node_in_the_server_station(people, as_user):
    client = as_user("alice")
    assert client.get(reverse("node-new")).status_code == 200
    response = client.post(
        reverse("node-new"),
        {
            "label": "validator-1",
            "endpoint_url": "https://node.firm-a.test:8545",
            "location": "Data hall 2",
            "operator": "Firm A ops",
        },
    )
    assert response.status_code == 302
    node = Node.objects.get(firm=people.firm_a, label="validator-1")
    assert node.endpoint_url == "https://node.firm-a.test:8545"
    assert AuditEvent.objects.filter(action="node.register", object_id=str(node.pk)).exists()
    assert b"validator-1" in client.get(reverse("nodes")).content


def test_it_edits_a_node(node_a, as_user):
    response = as_user("alice").post(
        reverse("node-edit", args=[node_a.pk]),
        {"label": "validator-1", "endpoint_url": "wss://node.firm-a.test/ws"},
    )
    assert response.status_code == 302
    node_a.refresh_from_db()
    assert node_a.endpoint_url == "wss://node.firm-a.test/ws"


@pytest.mark.parametrize("endpoint", ["ftp://node.firm-a.test/", "file:///etc/passwd"])
def test_it_refuses_a_node_endpoint_that_is_not_http_or_ws(people, as_user, endpoint):
    before = Node.objects.count()
    response = as_user("alice").post(
        reverse("node-new"), {"label": "bad", "endpoint_url": endpoint}
    )
    assert response.status_code == 400
    assert "endpoint_url" in response.context["form"].errors
    assert b"http(s) or ws(s)" in response.content
    assert Node.objects.count() == before


def test_it_refuses_changing_a_node_to_an_ftp_endpoint(node_a, as_user):
    response = as_user("alice").post(
        reverse("node-edit", args=[node_a.pk]),
        {"label": "validator-1", "endpoint_url": "ftp://node.firm-a.test/"},
    )
    assert response.status_code == 400
    node_a.refresh_from_db()
    assert node_a.endpoint_url == "http://127.0.0.1:8545"


def test_it_refuses_a_second_node_with_the_same_label(node_a, as_user):
    before = Node.objects.count()
    response = as_user("alice").post(
        reverse("node-new"),
        {"label": "validator-1", "endpoint_url": "https://node-9.firm-a.test:8545"},
    )
    assert response.status_code == 400
    assert response.context["form"].non_field_errors()
    assert Node.objects.count() == before


def test_it_adds_and_edits_personnel(people, as_user):
    client = as_user("amir")
    response = client.post(
        reverse("personnel-new"), {"name": "Priya Shah", "role": "Site engineer", "on_site": "on"}
    )
    assert response.status_code == 302
    person = Personnel.objects.get(firm=people.firm_a, name="Priya Shah")
    assert person.on_site
    response = client.post(
        reverse("personnel-edit", args=[person.pk]), {"name": "Priya Shah", "role": "Lead"}
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert (person.role, person.on_site) == ("Lead", False)
    assert AuditEvent.objects.filter(action="personnel.add").exists()
    assert AuditEvent.objects.filter(action="personnel.update").exists()


def test_it_registers_the_firm_in_a_zone(people, as_user, zone):
    client = as_user("alice")
    page = client.get(reverse("zone-registration-new"))
    assert zone.name.encode() in page.content
    response = client.post(
        reverse("zone-registration-new"),
        {
            "zone": zone.pk,
            "registered_address": "Unit 4, Data Hall 2",
            "registration_number": "RTP-0417",
            "registered_on": "2025-01-15",
        },
    )
    assert response.status_code == 302
    registration = ZoneRegistration.objects.get(firm=people.firm_a, zone=zone)
    assert registration.registration_number == "RTP-0417"
    assert AuditEvent.objects.filter(action="zone_registration.create").exists()
    assert b"RTP-0417" in client.get(reverse("zone-registrations")).content
    assert b"RTP-0417" in client.get(reverse("firm-home")).content


def test_it_refuses_a_second_registration_in_the_same_zone(people, as_user, zone):
    ZoneRegistration.objects.create(
        firm=people.firm_a,
        zone=zone,
        registered_address="Unit 4",
        registration_number="RTP-0417",
        registered_on="2025-01-15",
    )
    response = as_user("alice").post(
        reverse("zone-registration-new"),
        {
            "zone": zone.pk,
            "registered_address": "Unit 5",
            "registration_number": "RTP-0418",
            "registered_on": "2025-02-01",
        },
    )
    assert response.status_code == 400
    assert response.context["form"].non_field_errors()
    assert ZoneRegistration.objects.count() == 1


def test_it_refuses_zone_registration_to_a_member(people, as_user, zone):
    client = as_user("amir")
    assert client.get(reverse("zone-registration-new")).status_code == 403
    response = client.post(
        reverse("zone-registration-new"),
        {
            "zone": zone.pk,
            "registered_address": "Unit 4",
            "registration_number": "RTP-0417",
            "registered_on": "2025-01-15",
        },
    )
    assert response.status_code == 403
    assert b"admin" in response.content
    assert not ZoneRegistration.objects.exists()
    listing = client.get(reverse("zone-registrations"))
    assert listing.status_code == 200
    assert reverse("zone-registration-new").encode() not in listing.content


def test_it_hides_firm_a_records_from_firm_b(people, as_user, project_a, node_a):
    person = Personnel.objects.create(firm=people.firm_a, name="Priya", role="Engineer")
    client = as_user("bella")
    for name, pk in [
        ("project-edit", project_a.pk),
        ("node-edit", node_a.pk),
        ("personnel-edit", person.pk),
    ]:
        assert client.get(reverse(name, args=[pk])).status_code == 404
    response = client.post(
        reverse("node-edit", args=[node_a.pk]),
        {"label": "stolen", "endpoint_url": "http://evil.test"},
    )
    assert response.status_code == 404
    node_a.refresh_from_db()
    assert node_a.label == "validator-1"
    listing = client.get(reverse("nodes"))
    assert b"validator-1" not in listing.content
    assert b"PayChain" not in client.get(reverse("projects")).content


def test_it_hides_another_firms_zone_registration(people, as_user, zone):
    registration = ZoneRegistration.objects.create(
        firm=people.firm_a,
        zone=zone,
        registered_address="Unit 4",
        registration_number="RTP-0417",
        registered_on="2025-01-15",
    )
    response = as_user("bella").get(reverse("zone-registration-edit", args=[registration.pk]))
    assert response.status_code == 404


def test_it_refuses_the_firm_pages_to_a_regulator(people, as_user, node_a):
    client = as_user("olivia")
    page = client.get(reverse("nodes"))
    assert page.status_code == 403
    assert reverse("firm-list").encode() in page.content
    response = client.post(
        reverse("node-new"), {"label": "x", "endpoint_url": "https://x.firm-a.test:8545"}
    )
    assert response.status_code == 403
    assert client.get(reverse("node-edit", args=[node_a.pk])).status_code == 403
    assert Node.objects.count() == 1


@pytest.mark.parametrize(
    "name", ["projects", "project-new", "nodes", "node-new", "personnel", "zone-registrations"]
)
def test_it_sends_anonymous_visitors_to_log_in(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
