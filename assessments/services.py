"""Test runs: starting and cancelling them, and what the worker writes while one runs.

Every change is transactional and audited. ``start_run`` and ``cancel_run`` are called by
pages and the API on behalf of a regulator; ``claim``, ``progress``, ``begin_suite``,
``finish_suite``, ``finish``, ``fail`` and ``stop_cancelled`` are called by the Celery task
(``assessments.tasks``), which carries the acting user so the audit trail names a person.
"""

import datetime
import uuid

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce, Concat, Length
from django.utils import timezone

from applications.models import State
from applications.services.common import IllegalTransition
from sandbox_portal.audit.services import record

from . import outcomes, plans
from .models import FINISHED_STATUSES, RunStatus, SuiteRun, TestRun

# A case's nodes may be tested while the regulator tests, evaluates or supervises it.
RUNNABLE_STATES = [State.TECHNICAL_TESTING, State.EVALUATION, State.IN_SANDBOX]

# Longest log kept on a run; older lines are dropped from the front.
LOG_LIMIT = 200_000


def can_start(user, application):
    return bool(user.is_authenticated and user.is_regulator)


def can_cancel(user, run):
    return bool(user.is_authenticated and user.is_regulator and not run.is_finished)


def _now_line(message, at=None):
    """A log line stamped with ``at`` (when the event happened), or now."""
    return f"{at or timezone.now():%H:%M:%S} {message}\n"


def start_run(application, *, actor, suites, parameters=None, node_ids=None):
    """Queue a run of ``suites`` against nodes registered for ``application``.

    Only regulators start runs (else ``PermissionDenied``), only while the case is in
    technical testing, evaluation or the sandbox (else ``IllegalTransition``). Suites and
    parameters are checked against the engine (``plans.clean_plan``); every node must be
    registered for this case, since the engine contacts nothing else (else
    ``ValidationError``). The Celery task is queued once the transaction commits.
    """
    task_id = str(uuid.uuid4())
    run = _create_run(
        application,
        actor=actor,
        suites=suites,
        parameters=parameters,
        node_ids=node_ids,
        task_id=task_id,
    )
    transaction.on_commit(lambda: _enqueue(run.pk, actor.pk, task_id))
    return run


def run_now(application, *, actor, suites, parameters=None, node_ids=None):
    """Run ``suites`` against nodes registered for ``application`` here and now, without
    Celery, and return the finished run (for the demo and for management use).

    The run is created, checked and audited exactly as by ``start_run``, and executed by
    the code the Celery task runs (``tasks.execute``), so its rows, log and audit events are
    those of any other run. It blocks until every suite has finished.
    """
    from .tasks import execute

    run = _create_run(
        application, actor=actor, suites=suites, parameters=parameters, node_ids=node_ids
    )
    # Inside a transaction no other connection sees the run, so a heartbeat would only
    # wait on the database's lock (SQLite) without telling anyone anything.
    execute(run.pk, actor.pk, heartbeat=not transaction.get_connection().in_atomic_block)
    return TestRun.objects.get(pk=run.pk)


def _create_run(application, *, actor, suites, parameters, node_ids, task_id=""):
    if not can_start(actor, application):
        raise PermissionDenied("Only regulators start technical test runs.")
    if application.state not in RUNNABLE_STATES:
        raise IllegalTransition(
            f"This case is {application.get_state_display().lower()}; test runs are started "
            "during technical testing, evaluation or in the sandbox."
        )
    suites, parameters = plans.clean_plan(list(suites or []), parameters)
    nodes = _registered_nodes(application, node_ids)
    with transaction.atomic():
        run = TestRun.objects.create(
            application=application,
            suites=suites,
            parameters=parameters,
            targets=[{"id": n.pk, "label": n.label, "endpoint": n.endpoint_url} for n in nodes],
            requested_by=actor,
            celery_task_id=task_id,
            log=_now_line(f"queued by {actor.get_username()}: {', '.join(suites)}"),
        )
        run.nodes.set(nodes)
        record(
            actor=actor,
            action="test_run.start",
            target=run,
            application_id=application.pk,
            after={"suites": suites, "parameters": parameters, "targets": run.targets},
        )
    return run


def _enqueue(run_id, actor_id, task_id=None):
    from .tasks import enqueue

    TestRun.objects.filter(pk=run_id).update(sent_at=timezone.now())
    enqueue(run_id, actor_id, task_id=task_id)


def _registered_nodes(application, node_ids):
    if isinstance(node_ids, str | int) or not node_ids:
        raise ValidationError({"nodes": "Choose at least one node registered for this case."})
    try:
        wanted = {int(n) for n in node_ids}
    except (TypeError, ValueError):
        raise ValidationError({"nodes": "Nodes are given by their ids."}) from None
    nodes = list(application.nodes.filter(pk__in=wanted).order_by("pk"))
    missing = sorted(wanted - {n.pk for n in nodes})
    if missing:
        raise ValidationError(
            {
                "nodes": "Not registered for this case, so never tested: node "
                + ", ".join(map(str, missing))
                + "."
            }
        )
    return nodes


def cancel_run(run, *, actor):
    """Ask a run to stop. A queued run is cancelled at once; a running one stops at the
    suite's next progress report. A finished run cannot be cancelled (``IllegalTransition``)."""
    if not (actor.is_authenticated and actor.is_regulator):
        raise PermissionDenied("Only regulators cancel technical test runs.")
    with transaction.atomic():
        run = TestRun.objects.select_for_update().get(pk=run.pk)
        if run.is_finished:
            raise IllegalTransition(f"This test run has already {run.status}; nothing to cancel.")
        if run.cancel_requested_at is not None:
            return run
        before = {"status": run.status}
        now = timezone.now()
        run.cancel_requested_at = now
        run.cancelled_by = actor
        fields = ["cancel_requested_at", "cancelled_by"]
        if run.status == RunStatus.QUEUED:
            run.status = RunStatus.CANCELLED
            run.finished_at = now
            run.error = f"Cancelled by {actor.get_username()} before it started."
            run.current_step = "cancelled"
            run.outcome = outcomes.NOT_JUDGED
            fields += ["status", "finished_at", "error", "current_step", "outcome"]
        run.log += _now_line(f"cancellation requested by {actor.get_username()}")
        run.save(update_fields=[*fields, "log"])
        record(
            actor=actor,
            action="test_run.cancel",
            target=run,
            application_id=run.application_id,
            before=before,
            after={"status": run.status, "cancel_requested_at": now},
        )
    return run


# -- What the worker writes ---------------------------------------------------------


def stale_before():
    return timezone.now() - datetime.timedelta(seconds=settings.ENGINE_STALE_AFTER_SECONDS)


def claim(run_id, task_id):
    """Take the run for this task: atomically, so a re-delivered message never runs it twice.

    A queued run is claimed; so is a running one whose worker has stopped answering (no
    heartbeat for ``ENGINE_STALE_AFTER_SECONDS``: it died, and this is the re-delivery).
    Returns the run, or None when another worker has it or it is finished or cancelled.
    """
    now = timezone.now()
    claimable = Q(status=RunStatus.QUEUED) | Q(
        status=RunStatus.RUNNING, heartbeat_at__lt=stale_before()
    )
    with transaction.atomic():
        claimed = (
            TestRun.objects.filter(claimable, pk=run_id, cancel_requested_at__isnull=True)
            .filter(attempts__lt=settings.ENGINE_MAX_ATTEMPTS)
            .update(
                status=RunStatus.RUNNING,
                attempts=F("attempts") + 1,
                celery_task_id=task_id or "",
                heartbeat_at=now,
                started_at=Coalesce(F("started_at"), Value(now)),
                finished_at=None,
            )
        )
        if not claimed:
            return None
        attempts = TestRun.objects.values_list("attempts", flat=True).get(pk=run_id)
        by = f" by task {task_id}" if task_id else ""
        _append(run_id, _now_line(f"attempt {attempts} started{by}"))
    return TestRun.objects.get(pk=run_id)


def _append(run_id, text, **fields):
    TestRun.objects.filter(pk=run_id).update(log=Concat(F("log"), Value(text)), **fields)


def heartbeat(run_id):
    """The worker is alive; True when a cancellation has been requested."""
    TestRun.objects.filter(pk=run_id, status=RunStatus.RUNNING).update(heartbeat_at=timezone.now())
    return cancel_requested(run_id)


def cancel_requested(run_id):
    return TestRun.objects.filter(pk=run_id, cancel_requested_at__isnull=False).exists()


def progress(run_id, percent, step, lines=()):
    """Write progress (0-100), the current step and new log lines; True when cancelled.

    A line is a message, stamped now, or ``(when, message)``, stamped with the time the event
    happened: lines are buffered between writes, and a flush must not re-date them."""
    text = "".join(
        _now_line(line[1], at=line[0]) if isinstance(line, tuple) else _now_line(line)
        for line in lines
    )
    TestRun.objects.filter(pk=run_id, status=RunStatus.RUNNING).update(
        progress=max(0, min(100, int(percent))),
        current_step=(step or "")[:300],
        heartbeat_at=timezone.now(),
        log=Concat(F("log"), Value(text)),
    )
    _trim_log(run_id)
    return cancel_requested(run_id)


def _trim_log(run_id):
    run = (
        TestRun.objects.annotate(size=Length("log"))
        .filter(pk=run_id, size__gt=LOG_LIMIT)
        .only("log")
        .first()
    )
    if run is not None:
        kept = run.log[-LOG_LIMIT:]
        TestRun.objects.filter(pk=run_id).update(log="[earlier lines dropped]\n" + kept)


def begin_suite(run, suite):
    """The suite's row, marked running (one row per suite, whatever the attempt)."""
    suite_run, _ = SuiteRun.objects.update_or_create(
        test_run=run,
        suite=suite,
        defaults={
            "status": RunStatus.RUNNING,
            "started_at": timezone.now(),
            "finished_at": None,
            "passed": None,
            "result": {},
            "error": "",
        },
    )
    return suite_run


def finish_suite(run, suite, *, result=None, error="", status=None, outcome=None):
    """Store a suite's result (``SuiteResult.to_dict()``) or the error that stopped it,
    with its outcome.

    Guarantees: the outcome is the result's (a result stored without one: from its
    ``passed``); a suite stopped by an error is ``outcome`` (failed unless the caller says
    invalid, when the fault was the engine's own, with the error as the reason); a cancelled
    suite is not judged. ``passed`` is True iff the outcome is passed, False iff failed.
    """
    if status is None:
        status = RunStatus.FAILED if error else RunStatus.SUCCEEDED
    if status == RunStatus.CANCELLED:
        outcome = outcomes.NOT_JUDGED
    elif error:
        outcome = outcome if outcome in outcomes.RUN_OUTCOMES else outcomes.FAILED
    else:
        outcome = outcomes.suite_outcome(result)
    reason = ""
    if outcome == outcomes.INVALID:
        reason = (error or outcomes.suite_invalid_reason(result))[: outcomes.TEXT_LIMIT]
    passed = outcomes.passed_of(outcome)
    suite_run, _ = SuiteRun.objects.update_or_create(
        test_run=run,
        suite=suite,
        defaults={
            "status": status,
            "passed": passed,
            "outcome": outcome,
            "invalid_reason": reason,
            "result": result or {},
            "error": error,
            "finished_at": timezone.now(),
        },
    )
    verdict = outcome.replace("_", " ")
    if outcome in (outcomes.FAILED, outcomes.INVALID):
        verdict = verdict.upper()
    detail = error or reason
    _append(run.pk, _now_line(f"{suite}: {status}, {verdict}" + (f": {detail}" if detail else "")))
    return suite_run


def run_outcome(run_id):
    """``(outcome, invalid_reason)`` of a run from its suites' stored outcomes: invalid if
    any suite is invalid (with their reasons), else failed if any failed, else inconclusive
    if any is, else passed if any passed, else not judged."""
    rows = SuiteRun.objects.filter(test_run_id=run_id).order_by("pk")
    suites = [(s.suite, s.current_outcome, s.current_invalid_reason) for s in rows]
    outcome = outcomes.combine(o for _, o, _ in suites)
    reason = "; ".join(
        r if r.startswith(f"{s}: ") else f"{s}: {r}" for s, o, r in suites if o == outcomes.INVALID
    )
    return outcome, reason[: outcomes.TEXT_LIMIT]


def _close(run_id, *, status, actor, error="", action, line, outcome=None, invalid_reason=""):
    now = timezone.now()
    with transaction.atomic():
        run = TestRun.objects.select_for_update().get(pk=run_id)
        if run.is_finished:
            return run
        before = {"status": run.status}
        run.status = status
        run.finished_at = now
        run.error = error
        run.current_step = line
        if status == RunStatus.SUCCEEDED:
            run.progress = 100
        run.outcome, run.invalid_reason = run_outcome(run_id)
        if outcome == outcomes.INVALID and run.outcome != outcomes.INVALID:
            # The run itself could not be carried out by the engine: nothing it holds is a
            # verdict on the firm.
            run.outcome, run.invalid_reason = outcome, invalid_reason[: outcomes.TEXT_LIMIT]
        verdict = run.outcome.replace("_", " ")
        reason = f": {run.invalid_reason}" if run.invalid_reason else ""
        run.log += _now_line(line) + _now_line(f"outcome: {verdict}{reason}")
        run.save(
            update_fields=[
                "status",
                "finished_at",
                "error",
                "current_step",
                "progress",
                "log",
                "outcome",
                "invalid_reason",
            ]
        )
        record(
            actor=actor,
            action=action,
            target=run,
            application_id=run.application_id,
            before=before,
            after={
                "status": status,
                "outcome": run.outcome,
                "invalid_reason": run.invalid_reason,
                "passed": run.passed,
                "error": error,
            },
            reason=error,
        )
    return run


def finish(run_id, *, actor):
    """Every suite ran: the run succeeded (its verdict is in the suites' checks)."""
    return _close(
        run_id,
        status=RunStatus.SUCCEEDED,
        actor=actor,
        action="test_run.finish",
        line="finished",
    )


def fail(run_id, error, *, actor, invalid=False):
    """The run could not be completed; ``error`` says why.

    Its outcome is its suites' (``run_outcome``). With ``invalid`` the fault was the
    engine's own (the target could not be built, the worker kept dying): the run is then
    invalid with ``error`` as the reason, never failed.
    """
    return _close(
        run_id,
        status=RunStatus.FAILED,
        actor=actor,
        error=error,
        action="test_run.fail",
        line=f"failed: {error}",
        outcome=outcomes.INVALID if invalid else None,
        invalid_reason=error,
    )


def stop_cancelled(run_id):
    """The worker stopped the run because a regulator asked; the event names them."""
    run = TestRun.objects.select_related("cancelled_by").get(pk=run_id)
    who = run.cancelled_by.get_username() if run.cancelled_by else "a regulator"
    return _close(
        run_id,
        status=RunStatus.CANCELLED,
        actor=run.cancelled_by,
        error=f"Cancelled by {who}.",
        action="test_run.stopped",
        line=f"cancelled by {who}",
    )


def stale_runs():
    """Runs whose worker stopped answering: running, without a heartbeat for too long."""
    return TestRun.objects.filter(status=RunStatus.RUNNING, heartbeat_at__lt=stale_before())


def lost_queued_runs():
    """Queued runs whose task message was presumed lost: not taken by any worker and not
    sent again for ``ENGINE_RESEND_QUEUED_AFTER_SECONDS`` (a broker restarted without
    persistence loses the messages waiting in it)."""
    cutoff = timezone.now() - datetime.timedelta(
        seconds=settings.ENGINE_RESEND_QUEUED_AFTER_SECONDS
    )
    return TestRun.objects.filter(
        Q(sent_at__lt=cutoff) | Q(sent_at__isnull=True),
        status=RunStatus.QUEUED,
        cancel_requested_at__isnull=True,
        created_at__lt=cutoff,
    )


def resend_queued(run_id):
    """Send a lost queued run's task message again; "resent", or None when it is no longer
    lost. A duplicate message is harmless: ``claim`` lets one worker take the run."""
    with transaction.atomic():
        run = lost_queued_runs().select_for_update().filter(pk=run_id).first()
        if run is None:
            return None
        run.sent_at = timezone.now()
        run.log += _now_line("no worker took the run; its task was sent again")
        run.save(update_fields=["sent_at", "log"])
        task_id, actor_id = run.celery_task_id or None, run.requested_by_id
        transaction.on_commit(lambda: _enqueue(run_id, actor_id, task_id))
    return "resent"


def requeue_stale(run_id):
    """Put a run whose worker died back in the queue, or fail it after too many attempts.

    Returns "requeued", "failed" or None (it is no longer stale: someone else took it).
    """
    with transaction.atomic():
        run = (
            TestRun.objects.select_for_update()
            .filter(pk=run_id, status=RunStatus.RUNNING, heartbeat_at__lt=stale_before())
            .first()
        )
        if run is None:
            return None
        if run.cancel_requested_at is not None:
            outcome = "cancelled"
        elif run.attempts >= settings.ENGINE_MAX_ATTEMPTS:
            outcome = "failed"
        else:
            run.status = RunStatus.QUEUED
            run.celery_task_id = str(uuid.uuid4())
            run.log += _now_line(
                f"the worker of attempt {run.attempts} stopped answering; queued again"
            )
            run.save(update_fields=["status", "celery_task_id", "log"])
            record(
                actor=None,
                action="test_run.requeue",
                target=run,
                application_id=run.application_id,
                before={"status": RunStatus.RUNNING, "attempts": run.attempts},
                after={"status": RunStatus.QUEUED},
                reason="the worker stopped answering",
            )
            task_id, actor_id = run.celery_task_id, run.requested_by_id
            transaction.on_commit(lambda: _enqueue(run_id, actor_id, task_id))
            return "requeued"
    if outcome == "cancelled":
        stop_cancelled(run_id)
        return "cancelled"
    fail(
        run_id,
        f"the worker stopped answering {run.attempts} times; the run was given up",
        actor=None,
        invalid=True,
    )
    return "failed"


__all__ = [
    "FINISHED_STATUSES",
    "RUNNABLE_STATES",
    "begin_suite",
    "can_cancel",
    "can_start",
    "cancel_run",
    "claim",
    "fail",
    "finish",
    "finish_suite",
    "heartbeat",
    "progress",
    "requeue_stale",
    "run_now",
    "run_outcome",
    "stale_runs",
    "start_run",
    "stop_cancelled",
]
