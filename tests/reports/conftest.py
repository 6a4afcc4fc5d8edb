"""Reports: a fixed signing key for the whole run, and one rendered report shared by many tests.

WeasyPrint is slow next to everything else, so one realistic report is rendered once per
session (``rendered``), inside a transaction that is rolled back. Tests that need the
portal to know that report's evaluation give the database an issued evaluation with the
same canonical JSON (``issued_like_rendered``): the portal finds evaluations by hash.
"""

import base64
import socket
import types

import pytest
from django.core.files.base import ContentFile
from django.db import transaction
from django.test import override_settings

from applications.models import Criterion, Firm, FirmMembership, MembershipRole
from applications.services import content, firms, lifecycle
from assessments.evaluations import services as evaluation_services
from assessments.evaluations.models import Evaluation, EvaluationStatus
from assessments.reports import integrity, render, services
from assessments.reports.models import AccessEvaluationReport, ReportStatus
from sandbox_portal.accounts.models import Role
from tests.conftest import advance, complete_fields, make_user

from .helpers import finished_run, issued_evaluation

TEST_KEY = integrity.generate_private_key()


@pytest.fixture(scope="session", autouse=True)
def _signing_key(tmp_path_factory):
    raw = TEST_KEY.private_bytes_raw()
    with override_settings(
        REPORT_SIGNING_KEY=base64.b64encode(raw).decode(),
        REPORT_PUBLIC_KEY="",
        REPORT_SIGNING_KEY_FILE=tmp_path_factory.mktemp("keys") / "unused.pem",
    ):
        yield


class NetworkGuard:
    """Records (and refuses) every attempt to open a network connection."""

    def __init__(self, monkeypatch):
        self.attempts = []
        real_connect = socket.socket.connect

        def connect(sock, address):
            if sock.family in (socket.AF_INET, socket.AF_INET6):
                self.attempts.append(address)
                raise OSError("network access is refused while rendering a report")
            return real_connect(sock, address)

        def getaddrinfo(host, *args, **kwargs):
            self.attempts.append(host)
            raise OSError("name resolution is refused while rendering a report")

        monkeypatch.setattr(socket.socket, "connect", connect)
        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def _case(users):
    firm = Firm.objects.create(name="Render Firm", contact_email="r@firm.test")
    FirmMembership.objects.create(firm=firm, user=users.alice, role=MembershipRole.ADMIN)
    project = firms.save_project(
        firm, actor=users.alice, fields={"name": "PayChain", "category": "payment"}
    )
    node = firms.save_node(
        firm,
        actor=users.alice,
        fields={"label": "validator-1", "endpoint_url": "http://127.0.0.1:8545"},
    )
    app = content.create_application(
        actor=users.alice,
        project=project,
        fields=complete_fields(),
        answers={c.value: f"Our answer on {c.label}." for c in Criterion},
        nodes=[node],
    )
    return lifecycle.submit(app, actor=users.alice)


@pytest.fixture(scope="session")
def rendered(django_db_setup, django_db_blocker):
    """One realistic report, rendered once: its PDF, canonical JSON and what was fetched."""
    with (
        pytest.MonkeyPatch.context() as monkeypatch,
        django_db_blocker.unblock(),
        transaction.atomic(),
    ):
        users = types.SimpleNamespace(
            alice=make_user("render-alice", Role.FIRM),
            olivia=make_user("render-olivia", Role.CASE_OFFICER),
            victor=make_user("render-victor", Role.APPROVER),
        )
        app = advance(_case(users), users, "admitted_with_conditions")
        run = finished_run(app, users.olivia)
        evaluation = issued_evaluation(app, users.olivia, [run])
        report = AccessEvaluationReport.objects.create(
            evaluation=evaluation, requested_by=users.olivia
        )
        guard = NetworkGuard(monkeypatch)
        fetcher = render.StaticFileFetcher()
        pdf, signature, fingerprint = services.build_pdf(report, fetcher=fetcher)
        result = types.SimpleNamespace(
            pdf=pdf,
            canonical_json=evaluation.canonical_json,
            sha256=evaluation.sha256,
            signature=signature,
            fingerprint=fingerprint,
            fetcher=fetcher,
            network_attempts=list(guard.attempts),
        )
        transaction.set_rollback(True)
    return result


@pytest.fixture
def evaluated_a(people, submitted_a):
    """Firm A's case in evaluation, with a finished test run and an issued evaluation."""
    app = advance(submitted_a, people, "evaluation")
    run = finished_run(app, people.olivia)
    return issued_evaluation(app, people.olivia, [run])


@pytest.fixture
def issued_like_rendered(people, submitted_a, rendered):
    """An issued evaluation of Firm A's case whose canonical JSON is the rendered report's."""
    return Evaluation.objects.create(
        application=submitted_a,
        index_model=evaluation_services.default_index_model(),
        version=1,
        status=EvaluationStatus.ISSUED,
        results={},
        recommendation="admit_with_conditions",
        created_by=people.olivia,
        issued_by=people.olivia,
        issued_at=submitted_a.submitted_at,
        canonical_json=rendered.canonical_json,
        sha256=rendered.sha256,
    )


@pytest.fixture
def ready_report(people, issued_like_rendered, rendered):
    """A ready report of Firm A's case, stored with the rendered PDF."""
    report = AccessEvaluationReport.objects.create(
        evaluation=issued_like_rendered,
        requested_by=people.olivia,
        status=ReportStatus.READY,
        progress=100,
        json_sha256=rendered.sha256,
        pdf_sha256=integrity.sha256_hex(rendered.pdf),
        signature=rendered.signature,
        key_fingerprint=rendered.fingerprint,
    )
    report.pdf.save(f"{report.filename}", ContentFile(rendered.pdf), save=True)
    return report
