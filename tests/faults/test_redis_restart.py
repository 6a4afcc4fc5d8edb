"""The broker (Redis) is killed and started again while a test run executes: the run is
neither lost nor stuck nor run twice, and the worker goes on consuming afterwards."""

import time
import uuid

import pytest
from django.conf import settings

from applications.tasks import ping
from assessments import services, tasks
from assessments.models import RunStatus, SuiteRun, TestRun
from sandbox_portal.audit.models import AuditEvent
from sandbox_portal.audit.services import verify_chain
from sandbox_portal.celery import app as celery_app
from tests.runs.conftest import QUICK_PARAMETERS, QUICK_SUITES, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def send_through(redis_url):
    """What ``tasks.enqueue`` does, through the private Redis instead of this process's
    configured broker."""

    def enqueue(run_id, actor_id, task_id=None):
        with celery_app.connection_for_write(
            url=redis_url, transport_options={"visibility_timeout": 5}
        ) as connection:
            tasks.execute_test_run.apply_async(
                args=[run_id, actor_id],
                task_id=task_id,
                queue=settings.ENGINE_QUEUE,
                connection=connection,
            )

    return enqueue


def run_row(run):
    return TestRun.objects.get(pk=run.pk)


def test_a_run_survives_redis_restarting_under_it(
    people, live_case, private_redis, redis_worker, monkeypatch
):
    monkeypatch.setattr(tasks, "enqueue", send_through(private_redis.url))
    worker = redis_worker()
    slow = {**QUICK_PARAMETERS, "block": {"blocks": 10, "observe_seconds": 6.0}}
    run = services.start_run(
        live_case,
        actor=people.olivia,
        suites=QUICK_SUITES,
        parameters=slow,
        node_ids=[n.pk for n in live_case.nodes.all()],
    )

    def under_way():
        if worker.process.poll() is not None:
            raise AssertionError(f"the worker exited:\n{worker.log()}")
        return run_row(run).progress > 5

    wait_for(under_way, timeout=60, message=f"run {run.pk} to be under way\n{worker.log()}")
    # Redis dies with the run's unacknowledged message in it, and comes back empty.
    private_redis.kill()
    assert run_row(run).status == RunStatus.RUNNING
    time.sleep(1)
    private_redis.start()

    def done():
        if worker.process.poll() is not None:
            raise AssertionError(f"the worker exited:\n{worker.log()}")
        row = run_row(run)
        if row.status == RunStatus.RUNNING and row.heartbeat_at < services.stale_before():
            # The worker lost the run: the stale sweep (Celery beat in production) puts it
            # back in the queue, and a worker must then finish it.
            tasks.requeue_stale_runs()
        return row if row.is_finished else None

    row = wait_for(done, timeout=90, message=f"run {run.pk} to finish\n{worker.log()}")
    assert row.status == RunStatus.SUCCEEDED, f"{row.error}\n{worker.log()}"
    assert row.progress == 100
    assert row.attempts in (1, 2)
    suites = SuiteRun.objects.filter(test_run=run)
    assert sorted(suites.values_list("suite", flat=True)) == ["block", "crypto"]
    assert all(s.status == RunStatus.SUCCEEDED for s in suites)
    assert AuditEvent.objects.filter(action="test_run.finish", object_id=str(run.pk)).count() == 1

    # The worker reconnected to the restarted Redis and takes new work from it.
    marker = uuid.uuid4().hex
    with celery_app.connection_for_write(url=private_redis.url) as connection:
        ping.apply_async(args=[marker], queue=redis_worker.queue, connection=connection)
    wait_for(
        lambda: AuditEvent.objects.filter(action="worker.ping", after__marker=marker).exists(),
        timeout=60,
        message=f"the worker to consume after the restart\n{worker.log()}",
    )
    # A late re-delivery of the run's message (restored by the worker) finds it finished.
    time.sleep(1)
    final = run_row(run)
    assert final.attempts == row.attempts and final.status == RunStatus.SUCCEEDED
    assert AuditEvent.objects.filter(action="test_run.finish", object_id=str(run.pk)).count() == 1
    assert verify_chain().intact
