"""A case from draft to exit, entirely through the API with token logins."""

import datetime
import time

from django.core.files.uploadedfile import SimpleUploadedFile
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from applications.models import Criterion
from sandbox_portal.accounts import two_factor
from sandbox_portal.accounts.models import User
from sandbox_portal.audit.models import AuditEvent
from sandbox_portal.audit.services import verify_chain

from .helpers import API, action_names


def current_code(user):
    """What the user's authenticator app shows now (one is set up if the user has none)."""
    device = two_factor.confirmed_device(user) or TOTPDevice.objects.create(
        user=user, name="Phone", confirmed=True
    )
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return f"{totp.token():06d}"


def login(username):
    """A token from the token endpoint, with the authenticator's code for regulators."""
    client = APIClient()
    credentials = {"username": username, "password": "pw"}
    user = User.objects.get(username=username)
    if two_factor.requires_two_factor(user):
        credentials["otp_token"] = current_code(user)
    response = client.post(f"{API}/auth/token/", credentials, format="json")
    assert response.status_code == 200, response.content
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    return client


def act(client, app_id, name, payload=None):
    response = client.post(
        f"{API}/applications/{app_id}/actions/{name}/", payload or {}, format="json"
    )
    assert response.status_code == 200, (name, response.content)
    return response.json()


def test_it_walks_a_case_from_draft_to_exit_through_the_api(people):
    today = datetime.date.today()
    alice = login("alice")
    assert AuditEvent.objects.filter(action="auth.login", actor=people.alice).exists()

    # The firm registers its project and node, then opens and fills in the application.
    project = alice.post(
        f"{API}/projects/", {"name": "PayChain", "category": "payment"}, format="json"
    )
    assert project.status_code == 201, project.content
    node = alice.post(
        f"{API}/nodes/",
        {"label": "validator-1", "endpoint_url": "http://127.0.0.1:8545"},
        format="json",
    )
    assert node.status_code == 201, node.content
    created = alice.post(
        f"{API}/applications/",
        {
            "project": project.json()["id"],
            "title": "Instant cross-border payments",
            "hypothesis": "Settlement in under a second.",
            "success_metrics": "p99 latency under 1 s.",
            "test_start": str(today + datetime.timedelta(days=30)),
            "test_end": str(today + datetime.timedelta(days=200)),
            "customer_cap": 500,
            "exit_strategy": "Apply for full authorisation.",
            "target_level": 2,
            "relief_requested": ["guidance", "waiver"],
            "eligibility": {c.value: f"Our answer on {c.label}." for c in Criterion},
            "nodes": [node.json()["id"]],
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    case = created.json()
    case_id = case["id"]
    assert case["state"] == "draft"
    assert case["relief_requested"] == ["waiver", "guidance"]
    assert [n["label"] for n in case["nodes"]] == ["validator-1"]
    assert len(case["eligibility"]) == 5
    assert case["clock"]["label"] == "not started"

    assert {"submit", "withdraw"} <= action_names(
        alice.get(f"{API}/applications/{case_id}/actions/")
    )

    upload = alice.post(
        f"{API}/documents/",
        {
            "application": case_id,
            "kind": "white_paper",
            "file": SimpleUploadedFile("paper.pdf", b"%PDF-1.4\n% white paper\n"),
        },
        format="multipart",
    )
    assert upload.status_code == 201, upload.content
    assert len(upload.json()["sha256"]) == 64

    assert act(alice, case_id, "submit")["state"] == "submitted"

    # The case officer screens it and asks a question.
    olivia = login("olivia")
    olivia_actions = action_names(olivia.get(f"{API}/applications/{case_id}/actions/"))
    assert "start_screening" in olivia_actions
    assert "decide" not in olivia_actions
    act(olivia, case_id, "start_screening")
    act(olivia, case_id, "accept_for_review", {"note": "Complete."})
    asked = act(
        olivia,
        case_id,
        "request_information",
        {"question": "Who holds the keys?", "due_date": str(today + datetime.timedelta(days=10))},
    )
    assert asked["state"] == "awaiting_firm"
    assert asked["clock"]["paused"] is True

    # The firm answers it.
    open_rfis = alice.get(f"{API}/rfis/", {"application": case_id, "open": "true"}).json()
    assert [r["question"] for r in open_rfis["results"]] == ["Who holds the keys?"]
    assert action_names(alice.get(f"{API}/applications/{case_id}/actions/")) >= {
        "answer_information"
    }
    answered = act(alice, case_id, "answer_information", {"answer": "An HSM on site."})
    assert answered["state"] == "under_review"
    assert answered["open_rfis"] == []

    # Review, testing, evaluation and the recommendation.
    rubric = {}
    for criterion in Criterion:
        rubric[f"{criterion.value}_assessment"] = "met"
        rubric[f"{criterion.value}_rationale"] = "Shown in the application."
    assessed = act(olivia, case_id, "assess_eligibility", rubric)
    assert {e["assessment"] for e in assessed["eligibility"]} == {"met"}
    act(olivia, case_id, "send_to_testing", {"note": "Protocol and payments."})
    act(olivia, case_id, "send_to_evaluation")
    evaluated = olivia.post(f"{API}/evaluations/", {"application": case_id}, format="json")
    assert evaluated.status_code == 201, evaluated.content
    evaluation_id = evaluated.json()["id"]
    issued = olivia.post(f"{API}/evaluations/{evaluation_id}/issue/")
    assert issued.status_code == 200, issued.content
    assert issued.json()["status"] == "issued"
    recommended = act(
        olivia,
        case_id,
        "recommend",
        {
            "recommendation": "admit_with_conditions",
            "rationale": "Sound, with conditions.",
            "evaluation": evaluation_id,
        },
    )
    assert recommended["recommendation"]["recommended_by"]["username"] == "olivia"
    assert "decide" not in action_names(olivia.get(f"{API}/applications/{case_id}/actions/"))

    # The approver decides, with conditions and testing parameters.
    victor = login("victor")
    decide = {
        a["name"]: a for a in victor.get(f"{API}/applications/{case_id}/actions/").json()
    }.get("decide")
    assert decide is not None
    assert {f["name"] for f in decide["fields"]} >= {"outcome", "conditions", "testing_parameters"}
    due = str(today + datetime.timedelta(days=90))
    decided = act(
        victor,
        case_id,
        "decide",
        {
            "outcome": "admit_with_conditions",
            "rationale": "Admitted under conditions.",
            "conditions": [{"text": "Appoint a compliance officer", "due_date": due}],
            "testing_parameters": {"max_customers": 500},
        },
    )
    assert decided["state"] == "admitted_with_conditions"

    # The firm sees the decision and its conditions, not the internal recommendation.
    seen = alice.get(f"{API}/applications/{case_id}/").json()
    assert seen["decision"]["outcome"] == "admit_with_conditions"
    assert seen["decision"]["testing_parameters"] == {"max_customers": 500}
    assert [(c["text"], c["due_date"]) for c in seen["decision"]["conditions"]] == [
        ("Appoint a compliance officer", due)
    ]
    assert seen["recommendation"] is None

    # In the sandbox: the officer starts it, marks the condition, the firm reports.
    assert act(olivia, case_id, "start_sandbox")["state"] == "in_sandbox"
    condition_id = seen["decision"]["conditions"][0]["id"]
    marked = olivia.post(
        f"{API}/conditions/{condition_id}/status/",
        {"status": "met", "note": "Officer appointed."},
        format="json",
    )
    assert marked.status_code == 200, marked.content
    assert marked.json()["status"] == "met"
    act(
        alice,
        case_id,
        "submit_report",
        {
            "kind": "periodic",
            "title": "Month one",
            "body": "120 customers, no incidents.",
            "period_start": str(today),
            "period_end": str(today + datetime.timedelta(days=30)),
        },
    )
    act(alice, case_id, "submit_report", {"kind": "final", "title": "Final", "body": "Done."})
    reports = alice.get(f"{API}/firm-reports/", {"application": case_id}).json()
    assert sorted(r["kind"] for r in reports["results"]) == ["final", "periodic"]

    # Exit.
    assert act(alice, case_id, "start_exit_review", {"note": "Test over."})["state"] == (
        "exit_review"
    )
    assert "close_exit" in action_names(victor.get(f"{API}/applications/{case_id}/actions/"))
    exited = act(
        victor, case_id, "close_exit", {"outcome": "authorised", "rationale": "Fully authorised."}
    )
    assert exited["state"] == "exited"
    assert exited["exit_outcome"] == "authorised"
    assert action_names(alice.get(f"{API}/applications/{case_id}/actions/")) == set()

    # Every step is in the case's audit trail, and the chain holds.
    actions = set(
        AuditEvent.objects.filter(application_id=case_id).values_list("action", flat=True)
    )
    assert {
        "application.create",
        "document.upload",
        "application.submit",
        "application.request_information",
        "application.answer_information",
        "application.decide",
        "condition.set_status",
        "application.submit_report",
        "application.close_exit",
    } <= actions
    assert verify_chain().intact
