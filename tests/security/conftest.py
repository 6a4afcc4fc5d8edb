"""Firm A's case with one of every object a route can name, and the personas' clients."""

import datetime
import types

import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.authtoken.models import Token

from applications.models import Criterion, FirmMembership, Zone
from applications.services import firms, lifecycle
from assessments.engine import tracegen
from assessments.evaluations.services import issue_evaluation_for
from assessments.monitoring.models import Incident
from assessments.reports.models import AccessEvaluationReport, ReportStatus
from assessments.traces import services as trace_services
from tests.conftest import advance, login
from tests.evaluations import samples

# Everyone the matrix asks, in the order its failures are listed.
PERSONAS = ["anonymous", "alice", "amir", "bella", "olivia", "victor", "audrey", "ursula"]


@pytest.fixture(autouse=True)
def _fresh_throttles():
    # Login and API throttles count in the cache; each test starts with none used.
    cache.clear()
    yield
    cache.clear()


def _case_with_everything(people, submitted):
    """Firm A's case walked to the sandbox with an answered RFI, a finished test run,
    an issued evaluation, a decision with a condition, and a firm report."""
    app = advance(submitted, people, "under_review")
    app = lifecycle.request_information(app, actor=people.olivia, question="Who audits the code?")
    app = lifecycle.answer_information(app, actor=people.alice, answer="An external firm.")
    app = lifecycle.assess_eligibility(
        app, actor=people.olivia, assessments={c.value: ("met", "Shown.") for c in Criterion}
    )
    app = lifecycle.send_to_testing(app, actor=people.olivia)
    run = samples.finished_run(app, people.olivia, [samples.block(), samples.payment()])
    app = lifecycle.send_to_evaluation(app, actor=people.olivia)
    issue_evaluation_for(app, people.olivia)
    evaluation = app.evaluations.get(status="issued")
    app = lifecycle.recommend(
        app,
        actor=people.olivia,
        recommendation="admit_with_conditions",
        rationale="Good.",
        evaluation=evaluation,
    )
    app = lifecycle.decide(
        app,
        actor=people.victor,
        outcome="admit_with_conditions",
        rationale="Admitted.",
        conditions=[("Appoint a compliance officer", datetime.date.today())],
        testing_parameters={"max_customers": 500},
    )
    app = lifecycle.start_sandbox(app, actor=people.olivia)
    lifecycle.submit_report(
        app, actor=people.alice, kind="periodic", title="Month one", body="All well."
    )
    return app, run, evaluation


@pytest.fixture
def firm_a_objects(people, submitted_a, project_a, node_a):
    """One of each of Firm A's objects, by the name its URL parameter is filled from."""
    app, run, evaluation = _case_with_everything(people, submitted_a)
    zone = Zone.objects.create(name="Harbour Tech Park", kind="tech_park")
    person = firms.save_personnel(
        people.firm_a,
        actor=people.alice,
        fields={"name": "Nadia Node", "role": "Operator", "on_site": True},
    )
    registration = firms.save_zone_registration(
        people.firm_a,
        actor=people.alice,
        fields={
            "zone": zone,
            "registered_address": "1 Harbour Road",
            "registration_number": "HTP-1",
            "registered_on": datetime.date.today(),
        },
    )
    report = AccessEvaluationReport.objects.create(
        evaluation=evaluation,
        requested_by=people.olivia,
        status=ReportStatus.READY,
        progress=100,
        json_sha256=evaluation.sha256,
        pdf_sha256="0" * 64,
    )
    report.pdf.save(report.filename, ContentFile(b"%PDF-1.7\n% report\n"), save=True)
    trace_upload = trace_services.upload_trace(
        app,
        actor=people.alice,
        kind="consensus",
        uploaded=SimpleUploadedFile("trace.jsonl", tracegen.example_text("fork.jsonl").encode()),
    )
    trace_services.check_upload(trace_upload.pk)
    incident = Incident.objects.create(
        application=app,
        rule="node_down",
        key=f"node_down:{node_a.pk}",
        opened_at=app.sandbox_started_at,
        last_seen_at=app.sandbox_started_at,
        detail={"node": node_a.label, "error": "no answer"},
    )
    incident.nodes.set([node_a])
    # A member asks to move the case's node: a pending request for the case officer.
    firms.save_node(
        people.firm_a,
        actor=people.amir,
        node=node_a,
        fields={"endpoint_url": "https://node-2.firm-a.test:8545"},
    )
    return types.SimpleNamespace(
        application=app,
        document=app.documents.get(),
        rfi=app.rfis.get(),
        condition=app.conditions.get(),
        firm_report=app.firm_reports.get(),
        project=project_a,
        node=node_a,
        personnel=person,
        zone=zone,
        zone_registration=registration,
        membership=FirmMembership.objects.get(user=people.amir),
        firm=people.firm_a,
        test_run=run,
        evaluation=evaluation,
        report=report,
        trace_upload=trace_upload,
        incident=incident,
        node_change=node_a.endpoint_changes.get(),
    )


@pytest.fixture
def clients(people):
    """A page client and an API client (token header) per persona; anonymous has neither."""

    def make(name):
        if name == "anonymous":
            return types.SimpleNamespace(page=Client(), api=Client(), user=None)
        user = getattr(people, name)
        page = Client()
        login(page, user)
        token, _ = Token.objects.get_or_create(user=user)
        api = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
        return types.SimpleNamespace(page=page, api=api, user=user)

    return {name: make(name) for name in PERSONAS}
