"""Reports whose task message was lost are sent again; a duplicate never renders twice."""

import datetime

import pytest
from django.utils import timezone

from assessments.reports import services, tasks
from assessments.reports.models import AccessEvaluationReport, ReportStatus
from sandbox_portal.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

LONG_AGO = timezone.now() - datetime.timedelta(days=1)


@pytest.fixture
def sent(monkeypatch):
    messages = []
    monkeypatch.setattr(tasks, "enqueue", lambda *args: messages.append(args))
    return messages


@pytest.fixture
def queued(people, evaluated_a, sent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        report = services.request_report(evaluated_a, actor=people.olivia)
    sent.clear()
    return report


def _age(report, **fields):
    AccessEvaluationReport.objects.filter(pk=report.pk).update(created_at=LONG_AGO, **fields)


def test_sending_the_task_stamps_the_report(queued):
    queued.refresh_from_db()
    assert queued.sent_at is not None


def test_a_queued_report_whose_message_was_lost_is_sent_again_once(
    people, queued, sent, django_capture_on_commit_callbacks
):
    _age(queued, sent_at=LONG_AGO)
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.resend_stale_reports() == {queued.pk: "resent"}
    assert sent == [(queued.pk, people.olivia.pk)]
    # Sent just now: the next sweep leaves it alone (no pile of duplicates behind a backlog).
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.resend_stale_reports() == {}
    assert len(sent) == 1


def test_a_recently_sent_or_ready_report_is_not_sent_again(queued, sent, settings):
    _age(queued)  # created long ago, but its message went out just now
    assert tasks.resend_stale_reports() == {}
    _age(queued, sent_at=LONG_AGO, status=ReportStatus.READY)
    assert tasks.resend_stale_reports() == {}
    assert sent == []


def test_a_report_whose_worker_died_mid_render_is_sent_again(
    queued, sent, django_capture_on_commit_callbacks
):
    _age(queued, sent_at=LONG_AGO, status=ReportStatus.RENDERING, started_at=LONG_AGO, attempts=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.resend_stale_reports() == {queued.pk: "resent"}
    assert len(sent) == 1


def test_a_stale_report_out_of_attempts_is_failed_and_audited(queued, sent):
    _age(
        queued,
        sent_at=LONG_AGO,
        status=ReportStatus.RENDERING,
        started_at=LONG_AGO,
        attempts=services.MAX_ATTEMPTS,
    )
    assert tasks.resend_stale_reports() == {queued.pk: "failed"}
    queued.refresh_from_db()
    assert queued.status == ReportStatus.FAILED
    assert "3 times" in queued.error
    assert AuditEvent.objects.filter(action="report.fail", object_id=str(queued.pk)).exists()
    assert sent == []


def test_a_duplicate_message_does_not_take_a_report_another_worker_is_rendering(
    people, queued, monkeypatch
):
    monkeypatch.setattr(services, "build_pdf", lambda report: pytest.fail("rendered twice"))
    AccessEvaluationReport.objects.filter(pk=queued.pk).update(
        status=ReportStatus.RENDERING, started_at=timezone.now(), attempts=services.MAX_ATTEMPTS
    )
    tasks.render_report(queued.pk, people.olivia.pk)
    queued.refresh_from_db()
    # Still rendering in the other worker: neither rendered again nor failed.
    assert queued.status == ReportStatus.RENDERING
    assert queued.attempts == services.MAX_ATTEMPTS
