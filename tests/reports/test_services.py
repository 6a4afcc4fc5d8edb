"""Requesting and rendering reports: who may, when, and that rendering is idempotent."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from applications.services.common import IllegalTransition
from assessments.evaluations import services as evaluation_services
from assessments.evaluations.models import Evaluation, EvaluationStatus
from assessments.reports import services, tasks
from assessments.reports.models import AccessEvaluationReport, ReportStatus
from sandbox_portal.audit.models import AuditEvent
from tests.conftest import advance

from .helpers import finished_run

pytestmark = pytest.mark.django_db

LONG_AGO = timezone.now() - datetime.timedelta(days=1)


def test_a_regulator_queues_a_report_once_the_transaction_commits(
    people, evaluated_a, django_capture_on_commit_callbacks, monkeypatch
):
    sent = []
    monkeypatch.setattr(tasks, "enqueue", lambda *args: sent.append(args))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        report = services.request_report(evaluated_a, actor=people.olivia)
        assert sent == []
    for callback in callbacks:
        callback()
    assert sent == [(report.pk, people.olivia.pk)]
    assert report.status == ReportStatus.QUEUED
    assert report.json_sha256 == evaluated_a.sha256
    assert AuditEvent.objects.filter(action="report.request", object_id=str(report.pk)).exists()


def test_the_task_is_routed_to_the_reports_queue(settings):
    route = settings.CELERY_TASK_ROUTES["assessments.reports.tasks.render_report"]
    assert route == {"queue": "reports"}
    assert tasks.render_report.acks_late is True


def test_asking_twice_while_one_is_queued_returns_the_queued_one(people, evaluated_a):
    first = services.request_report(evaluated_a, actor=people.olivia)
    again = services.request_report(evaluated_a, actor=people.victor)
    assert again.pk == first.pk
    assert AccessEvaluationReport.objects.count() == 1


@pytest.mark.parametrize("who", ["alice", "amir", "audrey", "ursula", "staff"])
def test_only_regulators_ask_for_reports(people, evaluated_a, who):
    with pytest.raises(PermissionDenied):
        services.request_report(evaluated_a, actor=getattr(people, who))
    assert not AccessEvaluationReport.objects.exists()


def test_a_draft_evaluation_has_no_report(people, submitted_a):
    app = advance(submitted_a, people, "evaluation")
    draft = evaluation_services.create_evaluation(
        app, actor=people.olivia, test_run_ids=[finished_run(app, people.olivia).pk]
    )
    with pytest.raises(IllegalTransition):
        services.request_report(draft, actor=people.olivia)
    assert not AccessEvaluationReport.objects.exists()


def test_rendering_is_idempotent_and_generating_twice_gives_the_same_json_hash(
    people, evaluated_a, settings, monkeypatch
):
    monkeypatch.setattr(tasks, "enqueue", lambda *args: None)
    first = services.request_report(evaluated_a, actor=people.olivia)
    tasks.render_report(first.pk, people.olivia.pk)
    first.refresh_from_db()
    assert first.status == ReportStatus.READY
    assert first.progress == 100
    assert first.pdf.name == f"reports/{first.filename}"
    stored = sorted(p.name for p in (settings.MEDIA_ROOT / "reports").iterdir())
    assert stored == [first.filename]

    # A re-delivered message for a ready report changes nothing and renders nothing.
    def must_not_render(*args, **kwargs):
        raise AssertionError("a ready report was rendered again")

    monkeypatch.setattr(services, "build_pdf", must_not_render)
    tasks.render_report(first.pk, people.olivia.pk)
    again = AccessEvaluationReport.objects.get(pk=first.pk)
    assert (again.status, again.pdf_sha256, again.finished_at) == (
        first.status,
        first.pdf_sha256,
        first.finished_at,
    )
    assert sorted(p.name for p in (settings.MEDIA_ROOT / "reports").iterdir()) == stored
    monkeypatch.undo()
    monkeypatch.setattr(tasks, "enqueue", lambda *args: None)

    second = services.request_report(evaluated_a, actor=people.victor)
    assert second.pk != first.pk
    tasks.render_report(second.pk, people.victor.pk)
    second.refresh_from_db()
    assert second.status == ReportStatus.READY
    assert second.json_sha256 == first.json_sha256 == evaluated_a.sha256
    assert second.signature == first.signature
    assert AuditEvent.objects.filter(action="report.ready").count() == 2


def test_a_re_delivered_message_mid_render_replaces_the_file_instead_of_adding_one(
    people, evaluated_a, settings, monkeypatch
):
    monkeypatch.setattr(tasks, "enqueue", lambda *args: None)
    monkeypatch.setattr(services, "build_pdf", lambda report: (b"%PDF-1.7 fake", "sig", "fp"))
    report = services.request_report(evaluated_a, actor=people.olivia)
    # The first worker wrote its file and died before marking the report ready.
    (settings.MEDIA_ROOT / "reports").mkdir(parents=True)
    (settings.MEDIA_ROOT / "reports" / report.filename).write_bytes(b"half written")
    AccessEvaluationReport.objects.filter(pk=report.pk).update(
        status=ReportStatus.RENDERING, attempts=1, started_at=LONG_AGO
    )
    tasks.render_report(report.pk, people.olivia.pk)
    report.refresh_from_db()
    assert report.status == ReportStatus.READY
    assert list((settings.MEDIA_ROOT / "reports").iterdir()) == [
        settings.MEDIA_ROOT / "reports" / report.filename
    ]
    assert report.pdf.read() == b"%PDF-1.7 fake"


def test_a_report_that_cannot_render_is_marked_failed_with_its_reason(
    people, evaluated_a, monkeypatch
):
    monkeypatch.setattr(tasks, "enqueue", lambda *args: None)
    report = services.request_report(evaluated_a, actor=people.olivia)

    def broken(report):
        raise RuntimeError("the fonts are missing")

    monkeypatch.setattr(services, "build_pdf", broken)
    tasks.render_report(report.pk, people.olivia.pk)
    report.refresh_from_db()
    assert report.status == ReportStatus.FAILED
    assert "fonts are missing" in report.error
    assert not report.pdf
    assert AuditEvent.objects.filter(action="report.fail", object_id=str(report.pk)).exists()


def test_it_refuses_to_sign_an_evaluation_whose_json_does_not_match_its_hash(
    people, submitted_a, monkeypatch
):
    monkeypatch.setattr(tasks, "enqueue", lambda *args: None)
    evaluation = Evaluation.objects.create(
        application=submitted_a,
        index_model=evaluation_services.default_index_model(),
        version=1,
        status=EvaluationStatus.ISSUED,
        recommendation="reject",
        created_by=people.olivia,
        canonical_json='{"evaluation":{"id":1}}',
        sha256="0" * 64,
    )
    report = services.request_report(evaluation, actor=people.olivia)
    tasks.render_report(report.pk, people.olivia.pk)
    report.refresh_from_db()
    assert report.status == ReportStatus.FAILED
    assert "does not match" in report.error


def test_without_a_configured_key_a_development_key_is_made_once_and_reused(settings, tmp_path):
    from assessments.reports import keys

    settings.REPORT_SIGNING_KEY = ""
    settings.REPORT_SIGNING_KEY_FILE = tmp_path / "var" / "report-signing-key.pem"
    first = keys.fingerprint()
    assert (tmp_path / "var" / "report-signing-key.pem").stat().st_mode & 0o777 == 0o600
    assert keys.fingerprint() == first
    settings.REPORT_PUBLIC_KEY = keys.public_key_pem()
    assert keys.fingerprint() == first


def test_a_report_row_cannot_be_made_for_a_draft_evaluation_nor_deleted(
    people, submitted_a, ready_report
):
    app = advance(submitted_a, people, "evaluation")
    draft = evaluation_services.create_evaluation(app, actor=people.olivia)
    with pytest.raises(IllegalTransition):
        AccessEvaluationReport.objects.create(evaluation=draft, requested_by=people.olivia)
    with pytest.raises(IllegalTransition):
        ready_report.delete()
    assert AccessEvaluationReport.objects.filter(pk=ready_report.pk).exists()


def test_a_report_whose_workers_keep_dying_ends_failed_not_rendering_forever(
    people, evaluated_a, monkeypatch
):
    monkeypatch.setattr(tasks, "enqueue", lambda *args: None)
    report = services.request_report(evaluated_a, actor=people.olivia)
    AccessEvaluationReport.objects.filter(pk=report.pk).update(
        status=ReportStatus.RENDERING, attempts=services.MAX_ATTEMPTS, started_at=LONG_AGO
    )
    monkeypatch.setattr(services, "build_pdf", lambda report: pytest.fail("rendered again"))
    tasks.render_report(report.pk, people.olivia.pk)
    report.refresh_from_db()
    assert report.status == ReportStatus.FAILED
    assert "3 times" in report.error
