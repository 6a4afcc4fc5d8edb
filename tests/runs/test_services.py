"""Starting, cancelling, claiming and re-queuing runs through the services."""

import datetime
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from applications.services import firms
from applications.services.common import IllegalTransition
from assessments import services, tasks
from assessments.models import RunStatus, SuiteRun, TestRun
from sandbox_portal.audit.models import AuditEvent

from .conftest import QUICK_PARAMETERS, QUICK_SUITES


@pytest.fixture
def queued(monkeypatch):
    """Capture what would be sent to the broker instead of sending it."""
    sent = []
    monkeypatch.setattr(tasks, "enqueue", lambda *args, **kwargs: sent.append((args, kwargs)))
    return sent


def start(app, actor, **overrides):
    kwargs = {
        "suites": QUICK_SUITES,
        "parameters": QUICK_PARAMETERS,
        "node_ids": [n.pk for n in app.nodes.all()],
    }
    kwargs.update(overrides)
    return services.start_run(app, actor=actor, **kwargs)


def test_it_starts_a_run_queues_it_after_commit_and_audits_it(
    people, testing_a, queued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        run = start(testing_a, people.olivia)
    assert run.status == RunStatus.QUEUED
    assert run.suites == ["block", "crypto"]
    assert run.parameters["block"]["blocks"] == 10
    node = testing_a.nodes.get()
    assert run.targets == [{"id": node.pk, "label": node.label, "endpoint": node.endpoint_url}]
    assert list(run.nodes.all()) == [node]
    assert queued == [((run.pk, people.olivia.pk), {"task_id": run.celery_task_id})]
    event = AuditEvent.objects.get(action="test_run.start")
    assert event.actor == people.olivia
    assert event.application_id == testing_a.pk


def test_it_orders_suites_and_fills_in_the_plans_defaults(people, testing_a, queued):
    run = start(testing_a, people.olivia, suites=["crypto", "block"], parameters={})
    assert run.suites == ["block", "crypto"]
    assert run.parameters["block"] == {"blocks": 20, "observe_seconds": 3.0}


@pytest.mark.parametrize("who", ["alice", "audrey", "staff"])
def test_it_refuses_a_run_from_anyone_but_a_regulator(people, testing_a, queued, who):
    with pytest.raises(PermissionDenied):
        start(testing_a, getattr(people, who))
    assert not TestRun.objects.exists()


def test_it_refuses_a_run_while_the_case_is_not_being_tested(people, submitted_a, queued):
    with pytest.raises(IllegalTransition):
        start(submitted_a, people.olivia)
    assert not TestRun.objects.exists()


def test_it_refuses_a_node_not_registered_for_the_case(people, testing_a, queued):
    other = firms.save_node(
        people.firm_a,
        actor=people.alice,
        fields={"label": "not-on-the-case", "endpoint_url": "http://127.0.0.1:9"},
    )
    with pytest.raises(ValidationError) as caught:
        start(testing_a, people.olivia, node_ids=[other.pk])
    assert "Not registered for this case" in str(caught.value.message_dict["nodes"])
    with pytest.raises(ValidationError):
        start(testing_a, people.olivia, node_ids=[])
    assert not TestRun.objects.exists()
    assert queued == []


def test_it_refuses_unknown_suites_and_parameters_naming_them(people, testing_a, queued):
    with pytest.raises(ValidationError) as caught:
        start(testing_a, people.olivia, suites=["block", "teleport"])
    assert "teleport" in str(caught.value.message_dict["suites"])
    with pytest.raises(ValidationError) as caught:
        start(testing_a, people.olivia, parameters={"block": {"blocks": "many"}})
    assert "blocks must be an integer" in str(caught.value.message_dict["parameters"])
    with pytest.raises(ValidationError) as caught:
        start(testing_a, people.olivia, parameters={"block": {"colour": "red"}})
    assert "colour" in str(caught.value.message_dict["parameters"])
    assert not TestRun.objects.exists()


def test_cancelling_a_queued_run_cancels_it_at_once(people, testing_a, queued):
    run = start(testing_a, people.olivia)
    run = services.cancel_run(run, actor=people.oscar)
    assert run.status == RunStatus.CANCELLED
    assert run.cancelled_by == people.oscar
    assert "oscar" in run.error
    assert AuditEvent.objects.get(action="test_run.cancel").actor == people.oscar
    # A cancelled run is never claimed by a worker.
    assert services.claim(run.pk, "task") is None


def test_it_refuses_to_cancel_a_finished_run_or_for_a_firm(people, testing_a, queued):
    run = start(testing_a, people.olivia)
    with pytest.raises(PermissionDenied):
        services.cancel_run(run, actor=people.alice)
    services.cancel_run(run, actor=people.olivia)
    with pytest.raises(IllegalTransition):
        services.cancel_run(run, actor=people.olivia)


def test_a_run_is_claimed_once_and_again_only_when_its_worker_is_silent(
    people, testing_a, queued, settings
):
    run = start(testing_a, people.olivia)
    claimed = services.claim(run.pk, "first")
    assert claimed.status == RunStatus.RUNNING and claimed.attempts == 1
    assert services.claim(run.pk, "second") is None, "a live run must not be claimed twice"
    TestRun.objects.filter(pk=run.pk).update(
        heartbeat_at=timezone.now()
        - datetime.timedelta(seconds=settings.ENGINE_STALE_AFTER_SECONDS + 1)
    )
    again = services.claim(run.pk, "first")
    assert again.attempts == 2 and again.celery_task_id == "first"
    assert again.started_at == claimed.started_at, "a run started when its first attempt did"


def test_progress_is_clamped_and_the_log_keeps_its_newest_lines(
    people, testing_a, queued, monkeypatch
):
    monkeypatch.setattr(services, "LOG_LIMIT", 300)
    run = start(testing_a, people.olivia)
    services.claim(run.pk, "t")
    for i in range(20):
        assert services.progress(run.pk, 130, f"step {i}", [f"line {i:02d} " + "x" * 20]) is False
    run.refresh_from_db()
    assert run.progress == 100 and run.current_step == "step 19"
    assert len(run.log) <= 300 + 30
    assert run.log.startswith("[earlier lines dropped]") and "line 19" in run.log
    services.cancel_run(run, actor=people.olivia)
    assert services.progress(run.pk, 50, "after", []) is True


def test_a_log_line_carries_the_time_its_event_happened_not_the_time_it_was_written(
    people, testing_a, queued
):
    run = start(testing_a, people.olivia)
    services.claim(run.pk, "t")
    happened = timezone.now().replace(hour=10, minute=2, second=3)
    services.progress(run.pk, 10, "payment", [(happened, "payment: round 1 sent")])
    run.refresh_from_db()
    assert "10:02:03 payment: round 1 sent" in run.log


def test_lines_a_suite_reports_from_its_own_threads_keep_their_time_until_written(
    people, testing_a, queued
):
    run = start(testing_a, people.olivia)
    services.claim(run.pk, "t")
    execution = tasks._Execution(run, people.olivia, heartbeat=False)
    execution.suite = "payment"
    before = timezone.now()
    reporter = threading.Thread(target=execution._report, args=(40, "round 2 sent"))
    reporter.start()
    reporter.join()
    ((stamped, line),) = execution.lines
    assert line == "payment: round 2 sent" and before <= stamped <= timezone.now()
    execution._flush()
    run.refresh_from_db()
    assert f"{stamped:%H:%M:%S} payment: round 2 sent" in run.log


def test_the_sweep_requeues_a_silent_run_and_gives_up_after_the_last_attempt(
    people, testing_a, queued, settings, django_capture_on_commit_callbacks
):
    settings.ENGINE_MAX_ATTEMPTS = 2
    run = start(testing_a, people.olivia)
    silent = timezone.now() - datetime.timedelta(seconds=settings.ENGINE_STALE_AFTER_SECONDS + 1)
    services.claim(run.pk, "t1")
    TestRun.objects.filter(pk=run.pk).update(heartbeat_at=silent)
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.requeue_stale_runs() == {run.pk: "requeued"}
    run.refresh_from_db()
    assert run.status == RunStatus.QUEUED
    assert queued[-1] == ((run.pk, people.olivia.pk), {"task_id": run.celery_task_id})
    services.claim(run.pk, run.celery_task_id)
    TestRun.objects.filter(pk=run.pk).update(heartbeat_at=silent)
    assert tasks.requeue_stale_runs() == {run.pk: "failed"}
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert "stopped answering" in run.error


def test_a_suite_result_is_stored_once_whatever_the_attempt(people, testing_a, queued):
    run = start(testing_a, people.olivia)
    services.begin_suite(run, "block")
    services.finish_suite(run, "block", error="block: node unreachable")
    services.begin_suite(run, "block")
    services.finish_suite(run, "block", result={"passed": True, "checks": []})
    row = SuiteRun.objects.get(test_run=run)
    assert (row.status, row.passed, row.error) == (RunStatus.SUCCEEDED, True, "")


def test_the_task_goes_to_the_engine_queue_with_late_acks_and_time_limits(settings):
    from sandbox_portal.celery import app as celery_app

    task = tasks.execute_test_run
    assert task.acks_late and task.reject_on_worker_lost
    assert (task.soft_time_limit, task.time_limit) == (1800, 1900)
    assert task.soft_time_limit == settings.ENGINE_SOFT_TIME_LIMIT
    route = celery_app.amqp.router.route({}, task.name, (), {})
    assert route["queue"].name == "engine"


def test_a_queued_run_whose_message_was_lost_is_sent_again_once_per_window(
    people, testing_a, queued, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        run = start(testing_a, people.olivia)
    run.refresh_from_db()
    assert run.sent_at is not None
    assert len(queued) == 1
    # Sent just now: nothing to do, however old the run.
    long_ago = timezone.now() - datetime.timedelta(
        seconds=settings.ENGINE_RESEND_QUEUED_AFTER_SECONDS + 60
    )
    TestRun.objects.filter(pk=run.pk).update(created_at=long_ago)
    assert tasks.requeue_stale_runs() == {}
    # Its message went out long ago and no worker took it: the broker lost it.
    TestRun.objects.filter(pk=run.pk).update(sent_at=long_ago)
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.requeue_stale_runs() == {run.pk: "resent"}
    assert queued[-1] == ((run.pk, people.olivia.pk), {"task_id": run.celery_task_id})
    run.refresh_from_db()
    assert "sent again" in run.log and run.status == RunStatus.QUEUED
    # Not again within the window.
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.requeue_stale_runs() == {}
    assert len(queued) == 2
    # The duplicate is harmless: one claim takes the run, the other finds it taken.
    assert services.claim(run.pk, run.celery_task_id) is not None
    assert services.claim(run.pk, run.celery_task_id) is None


def test_a_cancelled_or_running_run_is_never_sent_again(people, testing_a, queued, settings):
    long_ago = timezone.now() - datetime.timedelta(
        seconds=settings.ENGINE_RESEND_QUEUED_AFTER_SECONDS + 60
    )
    running = start(testing_a, people.olivia)
    services.claim(running.pk, "t")
    cancelled = start(testing_a, people.olivia)
    services.cancel_run(cancelled, actor=people.olivia)
    TestRun.objects.update(created_at=long_ago, sent_at=long_ago)
    assert tasks.requeue_stale_runs() == {}
    assert queued == []
