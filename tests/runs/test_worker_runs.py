"""Runs go through a real Celery worker against a real Hardhat node: they show progress,
store their results, stop when cancelled, and survive a worker killed mid-run."""

import time

import pytest

from assessments import services
from assessments.models import RunStatus, SuiteRun, TestRun
from sandbox_portal.audit.models import AuditEvent
from sandbox_portal.audit.services import verify_chain

from .conftest import QUICK_PARAMETERS, QUICK_SUITES, STALE_AFTER_SECONDS, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def start(app, actor, parameters=QUICK_PARAMETERS):
    return services.start_run(
        app,
        actor=actor,
        suites=QUICK_SUITES,
        parameters=parameters,
        node_ids=[n.pk for n in app.nodes.all()],
    )


def run_row(run):
    return TestRun.objects.get(pk=run.pk)


def finished(run, worker, timeout=90):
    def done():
        row = run_row(run)
        if worker.process.poll() is not None:
            raise AssertionError(f"the worker exited:\n{worker.log()}")
        return row if row.is_finished else None

    try:
        return wait_for(done, timeout=timeout, message=f"run {run.pk} to finish")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\nworker log:\n{worker.log()}") from None


def test_a_worker_runs_the_suites_shows_progress_and_stores_results(
    people, live_case, start_worker
):
    worker = start_worker()
    run = start(live_case, people.olivia)
    seen = set()

    def progressing():
        row = run_row(run)
        seen.add(row.progress)
        return row.is_finished or 0 < row.progress < 100

    wait_for(progressing, timeout=60, interval=0.1, message="progress")
    row = finished(run, worker)
    assert row.status == RunStatus.SUCCEEDED, row.error
    assert row.progress == 100
    assert any(0 < p < 100 for p in seen), f"no progress between 0 and 100 was seen: {seen}"
    assert row.attempts == 1
    assert "block: watching the head" in row.log
    suites = {s.suite: s for s in SuiteRun.objects.filter(test_run=run)}
    assert set(suites) == {"block", "crypto"}
    block = suites["block"]
    assert block.status == RunStatus.SUCCEEDED and block.passed is True
    assert {c["name"] for c in block.result["checks"]} >= {"parent_hash_linkage", "no_stall"}
    assert block.result["charts"]["block_interval_s"]
    crypto = suites["crypto"]
    assert crypto.passed is True
    assert crypto.result["metrics"], "the crypto suite checked the seeded transactions"
    finish = AuditEvent.objects.get(action="test_run.finish", object_id=str(run.pk))
    assert finish.actor == people.olivia
    assert verify_chain().intact


def test_a_run_cancelled_mid_run_stops_and_says_so(people, live_case, start_worker):
    worker = start_worker()
    slow = {**QUICK_PARAMETERS, "block": {"blocks": 10, "observe_seconds": 30.0}}
    run = start(live_case, people.olivia, parameters=slow)
    wait_for(lambda: run_row(run).progress > 0, timeout=60, message="the run to start")
    services.cancel_run(run_row(run), actor=people.oscar)
    started = time.monotonic()
    row = finished(run, worker, timeout=30)
    assert time.monotonic() - started < 15, "the run stopped at its next progress report"
    assert row.status == RunStatus.CANCELLED
    assert "Cancelled by oscar" in row.error
    assert "cancelled by oscar" in row.log
    block = SuiteRun.objects.get(test_run=run, suite="block")
    assert block.status == RunStatus.CANCELLED
    assert not SuiteRun.objects.filter(test_run=run, suite="crypto").exists()
    stopped = AuditEvent.objects.get(action="test_run.stopped", object_id=str(run.pk))
    assert stopped.actor == people.oscar


def test_a_run_whose_worker_is_killed_finishes_exactly_once_on_another(
    people, live_case, start_worker
):
    first = start_worker()
    slow = {**QUICK_PARAMETERS, "block": {"blocks": 10, "observe_seconds": 4.0}}
    run = start(live_case, people.olivia, parameters=slow)
    wait_for(lambda: run_row(run).progress > 5, timeout=60, message="the run to be under way")
    first.kill()
    assert run_row(run).status == RunStatus.RUNNING
    # Once its heartbeat is stale, the next worker to start takes the run up again (and with
    # Redis the unacknowledged message is delivered again as well: only one may claim it).
    time.sleep(STALE_AFTER_SECONDS + 0.5)
    second = start_worker()
    row = finished(run, second)
    assert row.status == RunStatus.SUCCEEDED, row.error
    assert row.attempts == 2
    rows = SuiteRun.objects.filter(test_run=run)
    assert sorted(rows.values_list("suite", flat=True)) == ["block", "crypto"]
    assert all(r.status == RunStatus.SUCCEEDED for r in rows)
    assert AuditEvent.objects.filter(action="test_run.finish", object_id=str(run.pk)).count() == 1
    assert "attempt 2 started" in row.log
    # Nothing runs it a third time: a late duplicate finds it finished.
    time.sleep(1)
    assert run_row(run).attempts == 2
