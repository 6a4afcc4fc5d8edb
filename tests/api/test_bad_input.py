"""Bad input is a 400 with a message, never a 500, and changes nothing."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from applications.models import Application, State
from applications.services import firms
from tests.conftest import advance

from .helpers import API, action_url, case_url, database_state


@pytest.fixture
def recommended_a(people, submitted_a):
    return advance(submitted_a, people, "recommended")


def test_it_refuses_malformed_json_with_400(client_for, recommended_a):
    before = database_state()
    victor = client_for("victor")
    response = victor.post(
        action_url(recommended_a, "decide"),
        '{"outcome": "admit", ',
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]
    created = client_for("alice").post(
        f"{API}/applications/", "{not json", content_type="application/json"
    )
    assert created.status_code == 400
    assert database_state() == before


def test_it_refuses_a_json_body_that_is_not_an_object(client_for, recommended_a):
    before = database_state()
    response = client_for("victor").post(
        action_url(recommended_a, "decide"), ["admit"], format="json"
    )
    assert response.status_code == 400
    assert "JSON object" in response.json()["detail"]
    assert database_state() == before


def test_it_names_a_bad_condition_date_in_a_decision(client_for, recommended_a):
    before = database_state()
    response = client_for("victor").post(
        action_url(recommended_a, "decide"),
        {
            "outcome": "admit_with_conditions",
            "rationale": "Admitted under conditions.",
            "conditions": [{"text": "Appoint a compliance officer", "due_date": "2031-02-30"}],
            "testing_parameters": {"max_customers": 500},
        },
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert "'2031-02-30' is not a date" in body["errors"]["conditions"][0]
    assert "2031-02-30" in body["detail"]
    assert database_state() == before
    assert Application.objects.get(pk=recommended_a.pk).state == State.RECOMMENDED


def test_it_refuses_structured_values_where_one_value_is_expected(client_for, recommended_a):
    before = database_state()
    response = client_for("victor").post(
        action_url(recommended_a, "decide"),
        {"outcome": {"pick": "admit"}, "rationale": ["a", "b"], "testing_parameters": "[1"},
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"outcome", "rationale"}
    numbers = client_for("victor").post(
        action_url(recommended_a, "decide"),
        {"outcome": 7, "rationale": 12, "testing_parameters": [1, 2]},
        format="json",
    )
    assert numbers.status_code == 400
    assert set(numbers.json()["errors"]) == {"outcome", "testing_parameters"}
    assert database_state() == before


def test_it_refuses_a_date_given_as_a_number(client_for, people, submitted_a):
    app = advance(submitted_a, people, "under_review")
    before = database_state()
    response = client_for("olivia").post(
        action_url(app, "request_information"),
        {"question": "When?", "due_date": 20300101},
        format="json",
    )
    assert response.status_code == 400
    assert "due_date" in response.json()["errors"]
    assert database_state() == before


def upload(client, app, name, content, kind="white_paper"):
    return client.post(
        f"{API}/documents/",
        {"application": app.pk, "kind": kind, "file": SimpleUploadedFile(name, content)},
        format="multipart",
    )


def test_it_refuses_an_upload_that_is_too_large(client_for, settings, draft_a):
    settings.DOCUMENT_MAX_BYTES = 1024
    before = database_state()
    response = upload(client_for("alice"), draft_a, "big.pdf", b"%PDF-1.4\n" + b"0" * 2048)
    assert response.status_code == 400
    assert "the limit is" in response.json()["detail"]
    assert database_state() == before


def test_it_refuses_an_upload_of_the_wrong_type(client_for, draft_a):
    alice = client_for("alice")
    before = database_state()
    for name, content in [
        ("tool.exe", b"MZ\x90\x00"),
        ("paper.pdf", b"<html><script>alert(1)</script></html>"),
        ("empty.pdf", b""),
    ]:
        response = upload(alice, draft_a, name, content)
        assert response.status_code == 400, name
        assert response.json()["detail"]
    no_kind = upload(alice, draft_a, "paper.pdf", b"%PDF-1.4\n", kind="novel")
    assert no_kind.status_code == 400
    assert "kind" in no_kind.json()["errors"]
    assert database_state() == before


def test_it_refuses_an_upload_to_a_case_out_of_scope(client_for, draft_a):
    before = database_state()
    response = upload(client_for("bella"), draft_a, "paper.pdf", b"%PDF-1.4\n")
    assert response.status_code == 400
    assert "application" in response.json()["errors"]
    assert database_state() == before


def test_it_refuses_a_node_with_an_ftp_endpoint(client_for, node_a):
    alice = client_for("alice")
    before = database_state()
    response = alice.post(
        f"{API}/nodes/",
        {"label": "archive", "endpoint_url": "ftp://10.0.0.5/chain"},
        format="json",
    )
    assert response.status_code == 400
    assert "endpoint_url" in response.json()["errors"]
    edit = alice.patch(
        f"{API}/nodes/{node_a.pk}/", {"endpoint_url": "ftp://10.0.0.5/"}, format="json"
    )
    assert edit.status_code == 400
    duplicate = alice.post(
        f"{API}/nodes/",
        {"label": "validator-1", "endpoint_url": "https://node-6.firm-a.test:8545"},
        format="json",
    )
    assert duplicate.status_code == 400
    assert database_state() == before
    node_a.refresh_from_db()
    assert node_a.endpoint_url == "http://127.0.0.1:8545"


def test_it_refuses_an_application_for_an_unknown_project(client_for, people, project_a):
    before = database_state()
    response = client_for("alice").post(
        f"{API}/applications/", {"project": 999999, "title": "Ghost"}, format="json"
    )
    assert response.status_code == 400
    assert "project" in response.json()["errors"]
    other_firms = firms.save_project(
        people.firm_b, actor=people.bella, fields={"name": "B-Pay", "category": "payment"}
    )
    before = database_state()
    response = client_for("alice").post(
        f"{API}/applications/", {"project": other_firms.pk}, format="json"
    )
    assert response.status_code == 400
    assert database_state() == before


def test_it_refuses_a_node_of_another_firm_on_an_application(client_for, people, project_a):
    node_b = firms.save_node(
        people.firm_b,
        actor=people.bella,
        fields={"label": "b-1", "endpoint_url": "https://b-1.firm-b.test:8545"},
    )
    before = database_state()
    response = client_for("alice").post(
        f"{API}/applications/", {"project": project_a.pk, "nodes": [node_b.pk]}, format="json"
    )
    assert response.status_code == 400
    assert "nodes" in response.json()["errors"]
    assert database_state() == before


def test_it_refuses_wrong_types_in_an_application(client_for, project_a, draft_a):
    alice = client_for("alice")
    before = database_state()
    cases = [
        {"project": project_a.pk, "customer_cap": "lots"},
        {"project": project_a.pk, "test_start": "soon"},
        {"project": project_a.pk, "target_level": 9},
        {"project": project_a.pk, "relief_requested": ["amnesty"]},
        {"project": project_a.pk, "eligibility": {"vibes": "good"}},
        {"project": project_a.pk, "eligibility": "all of them"},
        {"project": project_a.pk, "nodes": "validator-1"},
        {"project": "PayChain"},
        {
            "project": project_a.pk,
            "test_start": str(datetime.date.today() + datetime.timedelta(days=10)),
            "test_end": str(datetime.date.today()),
        },
    ]
    for payload in cases:
        response = alice.post(f"{API}/applications/", payload, format="json")
        assert response.status_code == 400, (payload, response.content)
        assert response.json()["errors"], payload
    edit = alice.patch(case_url(draft_a), {"aggregate_cap": "a lot"}, format="json")
    assert edit.status_code == 400
    assert database_state() == before


def test_it_refuses_an_invalid_condition_status(client_for, in_sandbox_a):
    condition = in_sandbox_a.conditions.get()
    before = database_state()
    response = client_for("olivia").post(
        f"{API}/conditions/{condition.pk}/status/", {"status": "forgotten"}, format="json"
    )
    assert response.status_code == 400
    assert "status" in response.json()["errors"]
    assert database_state() == before


def test_it_refuses_an_invitation_with_a_taken_username(client_for, people):
    before = database_state()
    response = client_for("alice").post(
        f"{API}/members/", {"username": "amir", "email": "amir2@example.test"}, format="json"
    )
    assert response.status_code == 400
    assert "taken" in response.json()["detail"]
    bad_email = client_for("alice").post(
        f"{API}/members/", {"username": "newbie", "email": "not-an-email"}, format="json"
    )
    assert bad_email.status_code == 400
    assert database_state() == before


def test_it_refuses_fields_a_payload_cannot_set(client_for, people, draft_a, node_a):
    alice = client_for("alice")
    before = database_state()
    response = alice.patch(
        case_url(draft_a), {"title": "Renamed", "state": "admitted"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"state": ["This field cannot be set here."]}
    moved = alice.patch(f"{API}/nodes/{node_a.pk}/", {"firm": people.firm_b.pk}, format="json")
    assert moved.status_code == 400
    assert "firm" in moved.json()["errors"]
    assert database_state() == before
    assert Application.objects.get(pk=draft_a.pk).title != "Renamed"
