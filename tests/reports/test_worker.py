"""A real Celery worker consuming a reports queue renders, signs and stores a report."""

import base64
import importlib
import os
import subprocess
import sys
import time
import uuid

import pytest
from django.db import connection

from assessments.reports import services, tasks
from assessments.reports.models import AccessEvaluationReport, ReportStatus
from sandbox_portal.celery import app as celery_app
from tests.core.test_worker import _broker_folder_options, _database_url

from .conftest import TEST_KEY

WAIT_SECONDS = 120


@pytest.fixture
def removable_evaluations(transactional_db):
    """Let the test database be emptied after a committed test that issued evaluations.

    SQLite empties tables with DELETE, which the issued-evaluation triggers refuse; the
    rows this test committed are removed with the triggers briefly dropped.
    """
    yield
    if connection.vendor != "sqlite":
        return  # PostgreSQL empties tables with TRUNCATE, which row triggers do not see.
    guard = importlib.import_module(
        "assessments.evaluations.migrations.0002_issued_evaluation_guard"
    )
    with connection.cursor() as cursor:
        for _create, drop in guard.SQLITE:
            cursor.execute(drop)
        cursor.execute("DELETE FROM reports_accessevaluationreport")
        cursor.execute("DELETE FROM evaluations_evaluation_test_runs")
        cursor.execute("DELETE FROM evaluations_evaluation")
        for create, _drop in guard.SQLITE:
            cursor.execute(create)


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_worker_on_the_reports_queue_renders_a_ready_verifiable_report(
    removable_evaluations, tmp_path, people, evaluated_a, settings, monkeypatch
):
    var_dir = tmp_path / "var"
    var_dir.mkdir()
    queue = f"reports-test-{uuid.uuid4().hex[:12]}"
    env = os.environ.copy()
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "sandbox_portal.settings",
            "DATABASE_URL": _database_url(),
            "VAR_DIR": str(var_dir),
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "REPORT_SIGNING_KEY": base64.b64encode(TEST_KEY.private_bytes_raw()).decode(),
            "PYTHONUNBUFFERED": "1",
        }
    )
    if settings.REDIS_URL:
        env["REDIS_URL"] = settings.REDIS_URL
        transport_options = {}
    else:
        env.pop("REDIS_URL", None)
        transport_options = _broker_folder_options(var_dir)

    sent = []
    monkeypatch.setattr(tasks, "enqueue", lambda *args: sent.append(args))
    report = services.request_report(evaluated_a, actor=people.olivia)
    assert sent == [(report.pk, people.olivia.pk)]

    log_path = tmp_path / "worker.log"
    with open(log_path, "wb") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "sandbox_portal", "worker", "--pool=solo"]
            + ["--queues", queue, "--hostname", f"{queue}@%h", "--without-gossip"]
            + ["--without-mingle", "--without-heartbeat", "--loglevel=INFO"],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        with celery_app.connection_for_write(transport_options=transport_options) as conn:
            tasks.render_report.apply_async(
                args=[report.pk, people.olivia.pk], queue=queue, connection=conn
            )
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline and worker.poll() is None:
            report.refresh_from_db()
            if report.is_finished:
                break
            time.sleep(0.5)
        assert report.status == ReportStatus.READY, log_path.read_text(errors="replace")[-4000:]
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=10)

    assert report.progress == 100
    with report.pdf.open("rb") as handle:
        verdict = services.verify_report(handle.read())
    assert verdict.authentic, verdict.reason
    assert verdict.evaluation["id"] == evaluated_a.pk
    assert AccessEvaluationReport.objects.count() == 1
