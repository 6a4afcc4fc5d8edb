"""The collections: scoping, filters, pagination, query counts and the firm's records."""

import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from applications.models import (
    Application,
    FirmMembership,
    Node,
    Project,
    RequestForInformation,
    State,
    Zone,
)
from sandbox_portal.audit.models import AuditEvent
from tests.conftest import advance

from .helpers import API, database_state


def make_cases(people, project, count, start=0):
    """``count`` submitted cases for Firm A, one in three with an RFI."""
    now = timezone.now()
    apps = Application.objects.bulk_create(
        Application(
            reference=f"SBX-2000-{start + n:04d}",
            firm=people.firm_a,
            project=project,
            title=f"Case {start + n}",
            state=State.UNDER_REVIEW,
            created_by=people.alice,
            case_officer=people.olivia,
            submitted_at=now - datetime.timedelta(days=n % 40),
        )
        for n in range(count)
    )
    RequestForInformation.objects.bulk_create(
        RequestForInformation(
            application=app, question="Why?", raised_by=people.olivia, raised_at=now
        )
        for app in apps[::3]
    )


def count_list_queries(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"{API}/applications/", {"page_size": 100})
    assert response.status_code == 200
    return len(queries), response.json()


def test_the_application_list_costs_the_same_queries_at_10_and_200_rows(
    client_for, people, project_a
):
    olivia = client_for("olivia")
    make_cases(people, project_a, 10)
    few, body = count_list_queries(olivia)
    assert body["count"] == 10
    make_cases(people, project_a, 190, start=10)
    many, body = count_list_queries(olivia)
    assert body["count"] == 200
    assert len(body["results"]) == 100
    assert many == few


def test_it_pages_at_25_and_caps_the_page_size_at_100(client_for, people, project_a):
    make_cases(people, project_a, 130)
    olivia = client_for("olivia")
    first = olivia.get(f"{API}/applications/").json()
    assert (first["count"], len(first["results"])) == (130, 25)
    assert first["next"]
    capped = olivia.get(f"{API}/applications/", {"page_size": 500}).json()
    assert len(capped["results"]) == 100
    assert olivia.get(f"{API}/applications/", {"page": 99}).status_code == 404


def test_it_filters_searches_and_orders_the_case_list(client_for, people, submitted_a):
    advance(submitted_a, people, "screening")
    olivia = client_for("olivia")
    screening = olivia.get(f"{API}/applications/", {"state": "screening"}).json()
    assert [a["reference"] for a in screening["results"]] == [submitted_a.reference]
    assert olivia.get(f"{API}/applications/", {"state": "draft"}).json()["count"] == 0
    found = olivia.get(f"{API}/applications/", {"search": "cross-border"}).json()
    assert found["count"] == 1
    assert olivia.get(f"{API}/applications/", {"q": "nothing like it"}).json()["count"] == 0
    ordered = olivia.get(f"{API}/applications/", {"ordering": "reference"})
    assert ordered.status_code == 200
    bad = olivia.get(f"{API}/applications/", {"state": "limbo"})
    assert bad.status_code == 400


def test_the_case_detail_shows_the_whole_case(client_for, people, in_sandbox_a):
    body = client_for("olivia").get(f"{API}/applications/{in_sandbox_a.pk}/").json()
    assert body["state"] == "in_sandbox"
    assert {t["tier"] for t in body["tier_statuses"]} == {"institutional", "technical", "physical"}
    assert [d["kind"] for d in body["documents"]] == ["white_paper"]
    assert body["decision"]["conditions"][0]["text"] == "Appoint a compliance officer"
    assert body["recommendation"]["recommendation"] == "admit_with_conditions"
    assert body["clock"]["target"] == 60
    assert body["clock"]["running"] is False
    assert body["eligibility"][0]["assessed_by"]["username"] == "olivia"


def test_case_objects_are_scoped_to_the_caller(client_for, people, in_sandbox_a):
    from applications.services import lifecycle

    lifecycle.submit_report(
        in_sandbox_a, actor=people.alice, kind="incident", title="Outage", body="Ten minutes."
    )
    for collection in ("documents", "conditions", "firm-reports"):
        assert client_for("alice").get(f"{API}/{collection}/").json()["count"] == 1, collection
        assert client_for("olivia").get(f"{API}/{collection}/").json()["count"] == 1, collection
        assert client_for("bella").get(f"{API}/{collection}/").json()["count"] == 0, collection
        assert client_for("ursula").get(f"{API}/{collection}/").json()["count"] == 0, collection
    condition = in_sandbox_a.conditions.get()
    assert client_for("bella").get(f"{API}/conditions/{condition.pk}/").status_code == 404
    assert client_for("audrey").get(f"{API}/conditions/{condition.pk}/").status_code == 200
    reports = client_for("alice").get(f"{API}/firm-reports/", {"kind": "incident"}).json()
    assert [r["title"] for r in reports["results"]] == ["Outage"]


def test_rfis_are_listed_and_scoped(client_for, people, submitted_a):
    from applications.services import lifecycle

    app = advance(submitted_a, people, "under_review")
    lifecycle.request_information(app, actor=people.olivia, question="Who audits the code?")
    rfi = app.rfis.get()
    assert client_for("amir").get(f"{API}/rfis/{rfi.pk}/").json()["is_open"] is True
    assert client_for("bella").get(f"{API}/rfis/{rfi.pk}/").status_code == 404
    closed = client_for("olivia").get(f"{API}/rfis/", {"open": "false"}).json()
    assert closed["count"] == 0


def test_a_document_download_is_served_and_audited(client_for, draft_a):
    document = draft_a.documents.get()
    response = client_for("alice").get(f"{API}/documents/{document.pk}/download/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4\n% white paper\n"
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    assert AuditEvent.objects.filter(action="document.download", object_id=str(document.pk))
    pdf_client = client_for("alice")
    as_pdf = pdf_client.get(
        f"{API}/documents/{document.pk}/download/", HTTP_ACCEPT="application/pdf"
    )
    assert as_pdf.status_code == 200
    before = AuditEvent.objects.count()
    refused = client_for("bella").get(f"{API}/documents/{document.pk}/download/")
    assert refused.status_code == 404
    assert AuditEvent.objects.count() == before


def test_a_firm_user_registers_and_edits_its_nodes(client_for, people, node_a):
    alice = client_for("alice")
    created = alice.post(
        f"{API}/nodes/",
        {"label": "validator-2", "endpoint_url": "wss://node.firm-a.test:8546"},
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["firm"] == people.firm_a.pk
    edited = client_for("amir").patch(
        f"{API}/nodes/{node_a.pk}/", {"location": "Rack 4"}, format="json"
    )
    assert edited.status_code == 200
    assert Node.objects.get(pk=node_a.pk).location == "Rack 4"
    assert AuditEvent.objects.filter(action="node.update", object_id=str(node_a.pk)).exists()
    assert client_for("bella").get(f"{API}/nodes/{node_a.pk}/").status_code == 404
    assert client_for("bella").get(f"{API}/nodes/").json()["count"] == 0
    regulator = client_for("olivia").patch(
        f"{API}/nodes/{node_a.pk}/", {"location": "Elsewhere"}, format="json"
    )
    assert regulator.status_code == 403
    assert (
        client_for("olivia").get(f"{API}/nodes/", {"firm": people.firm_a.pk}).json()["count"] == 2
    )


def test_a_firm_user_cannot_register_for_another_firm(client_for, people):
    before = database_state()
    response = client_for("alice").post(
        f"{API}/projects/",
        {"firm": people.firm_b.pk, "name": "Hijack", "category": "payment"},
        format="json",
    )
    assert response.status_code == 400
    assert database_state() == before
    regulator = client_for("olivia").post(
        f"{API}/projects/",
        {"firm": people.firm_a.pk, "name": "Ours", "category": "payment"},
        format="json",
    )
    assert regulator.status_code == 403
    assert not Project.objects.filter(name="Ours").exists()


def test_projects_personnel_and_zone_registrations_go_through_the_firm_services(client_for, people):
    zone = Zone.objects.create(name="Tech Park East", kind="tech_park")
    alice = client_for("alice")
    project = alice.post(
        f"{API}/projects/", {"name": "ClearNet", "category": "clearing"}, format="json"
    )
    assert project.status_code == 201
    person = alice.post(
        f"{API}/personnel/", {"name": "Dana", "role": "Operator", "on_site": True}, format="json"
    )
    assert person.status_code == 201
    member_registration = client_for("amir").post(
        f"{API}/zone-registrations/",
        {
            "zone": zone.pk,
            "registered_address": "1 Park Road",
            "registration_number": "TP-1",
            "registered_on": "2025-01-02",
        },
        format="json",
    )
    assert member_registration.status_code == 403
    registration = alice.post(
        f"{API}/zone-registrations/",
        {
            "zone": zone.pk,
            "registered_address": "1 Park Road",
            "registration_number": "TP-1",
            "registered_on": "2025-01-02",
        },
        format="json",
    )
    assert registration.status_code == 201, registration.content
    assert registration.json()["zone_name"] == "Tech Park East"
    renamed = alice.patch(
        f"{API}/projects/{project.json()['id']}/", {"description": "Netting."}, format="json"
    )
    assert renamed.json()["description"] == "Netting."
    assert client_for("bella").get(f"{API}/personnel/").json()["count"] == 0
    assert client_for("olivia").get(f"{API}/zone-registrations/").json()["count"] == 1


def test_zones_and_firms_are_read_only(client_for, people):
    Zone.objects.create(name="Free Trade Zone", kind="free_trade")
    alice = client_for("alice")
    assert alice.get(f"{API}/zones/").json()["count"] == 1
    assert alice.post(f"{API}/zones/", {"name": "Mine"}, format="json").status_code == 405
    firms = alice.get(f"{API}/firms/").json()
    assert [f["name"] for f in firms["results"]] == ["Firm A"]
    assert client_for("olivia").get(f"{API}/firms/").json()["count"] == 2
    assert alice.get(f"{API}/firms/{people.firm_b.pk}/").status_code == 404
    assert alice.post(f"{API}/firms/", {"name": "New"}, format="json").status_code == 405


def test_a_firm_admin_invites_and_removes_members(client_for, people):
    alice = client_for("alice")
    listed = alice.get(f"{API}/members/").json()
    assert {m["user"]["username"] for m in listed["results"]} == {"alice", "amir"}
    invited = alice.post(
        f"{API}/members/",
        {"username": "nina", "email": "nina@firm-a.test", "role": "member"},
        format="json",
    )
    assert invited.status_code == 201, invited.content
    assert invited.json()["firm"] == people.firm_a.pk

    by_member = client_for("amir").post(
        f"{API}/members/", {"username": "zed", "email": "zed@firm-a.test"}, format="json"
    )
    assert by_member.status_code == 403

    amir = FirmMembership.objects.get(user=people.amir)
    assert client_for("bella").post(f"{API}/members/{amir.pk}/remove/").status_code == 404
    assert client_for("amir").post(f"{API}/members/{amir.pk}/remove/").status_code == 403
    removed = alice.post(f"{API}/members/{amir.pk}/remove/")
    assert removed.status_code == 200
    assert removed.json()["is_active"] is False
    again = alice.post(f"{API}/members/{amir.pk}/remove/")
    assert again.status_code == 400
    # A removed member's token no longer opens anything.
    assert client_for("amir").get(f"{API}/applications/").status_code == 401


def test_an_action_takes_form_data_as_well_as_json(client_for, people, submitted_a):
    app = advance(submitted_a, people, "recommended")
    due = datetime.date.today() + datetime.timedelta(days=45)
    response = client_for("victor").post(
        f"{API}/applications/{app.pk}/actions/decide/",
        {
            "outcome": "admit_with_conditions",
            "rationale": "Admitted.",
            "conditions": (
                f"{due}: Appoint a compliance officer\n{due}: Publish a complaints policy"
            ),
            "testing_parameters": '{"max_customers": 100}',
        },
    )
    assert response.status_code == 200, response.content
    decision = response.json()["decision"]
    assert len(decision["conditions"]) == 2
    assert decision["testing_parameters"] == {"max_customers": 100}


def test_the_case_detail_costs_the_same_queries_however_many_documents(client_for, people, draft_a):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from applications.services import content

    alice = client_for("alice")

    def detail_queries():
        with CaptureQueriesContext(connection) as queries:
            assert alice.get(f"{API}/applications/{draft_a.pk}/").status_code == 200
        return len(queries)

    one = detail_queries()
    for n in range(5):
        content.upload_document(
            draft_a,
            actor=people.alice,
            kind="other",
            uploaded=SimpleUploadedFile(f"note{n}.txt", f"note {n}".encode()),
        )
    assert detail_queries() == one
