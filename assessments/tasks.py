"""The Celery side of test runs: the task that runs a run's suites, and the sweep that
puts back in the queue a run whose worker died.

``execute_test_run`` takes ids only (the run and the acting user). It is idempotent: it
claims the run atomically (``services.claim``), so a re-delivered message neither runs a
run twice at once nor records a suite twice, and a suite already finished by an earlier
attempt is not run again.
"""

import logging
import threading
import time

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_ready
from django.conf import settings
from django.db import connection
from django.utils import timezone

from sandbox_portal import outgoing
from sandbox_portal.accounts.models import User

from . import outcomes, services
from .engine import (
    EndpointRefused,
    EngineError,
    InvalidParameters,
    RunCancelled,
    Target,
    run_suite,
)
from .models import RunStatus

logger = logging.getLogger(__name__)

# Progress and log lines are written at most this often (seconds).
WRITE_INTERVAL = 0.5


def enqueue(run_id, actor_id, task_id=None):
    """Send the run to the engine queue (``ENGINE_QUEUE``)."""
    execute_test_run.apply_async(
        args=[run_id, actor_id], task_id=task_id, queue=settings.ENGINE_QUEUE
    )


@shared_task(
    bind=True,
    name="assessments.tasks.execute_test_run",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.ENGINE_SOFT_TIME_LIMIT,
    time_limit=settings.ENGINE_HARD_TIME_LIMIT,
)
def execute_test_run(self, run_id, actor_id):
    """Run every suite of the test run ``run_id`` on behalf of user ``actor_id``."""
    return execute(run_id, actor_id, self.request.id)


def execute(run_id, actor_id, task_id=None, *, heartbeat=True):
    """Claim the run and run its suites in this process: what the Celery task does, and
    what ``services.run_now`` calls directly. Returns "succeeded", "failed", "cancelled"
    or "not claimed".

    Without ``heartbeat`` no thread writes the run's sign of life: for a caller inside a
    database transaction, where the run's row is visible to no other connection anyway.
    """
    run = services.claim(run_id, task_id)
    if run is None:
        logger.info("test run %s not claimed by task %s: taken or finished", run_id, task_id)
        return "not claimed"
    actor = User.objects.filter(pk=actor_id).first()
    return _Execution(run, actor, heartbeat=heartbeat).run()


def _outcome_of(exc):
    """A suite stopped by an engine error: failed when the node did not answer or answered
    against the specifications (the system under test), invalid when the engine itself
    could not test (its guard refused the endpoint, its parameters were unusable)."""
    if isinstance(exc, EndpointRefused | InvalidParameters):
        return outcomes.INVALID
    return outcomes.FAILED


def _reason(suite, exc):
    if isinstance(exc, EndpointRefused):
        return f"{suite}: refused: {exc.endpoint}: {exc.reason}"
    return f"{suite}: {exc}"


class _Heartbeat(threading.Thread):
    """Tells the database the worker is alive, and notices a cancellation request."""

    def __init__(self, run_id):
        super().__init__(daemon=True, name=f"test-run-{run_id}-heartbeat")
        self.run_id = run_id
        self.interval = max(0.2, min(5.0, settings.ENGINE_STALE_AFTER_SECONDS / 4))
        self.stopping = threading.Event()
        self.cancelled = threading.Event()

    def run(self):
        try:
            while not self.stopping.wait(self.interval):
                try:
                    if services.heartbeat(self.run_id):
                        self.cancelled.set()
                except Exception:
                    logger.exception("heartbeat of test run %s failed", self.run_id)
        finally:
            connection.close()

    def stop(self):
        self.stopping.set()
        self.join(timeout=10)


class _NoHeartbeat:
    """A heartbeat that writes nothing: cancellation is still noticed at each progress write."""

    def __init__(self):
        self.cancelled = threading.Event()

    def start(self):
        pass

    def stop(self):
        pass


class _Execution:
    def __init__(self, run, actor, *, heartbeat=True):
        self.run_row = run
        self.actor = actor
        self.count = len(run.suites)
        self.index = 0
        self.suite = ""
        self.lock = threading.Lock()
        self.lines = []
        self.percent = 0.0
        self.step = ""
        self.last_write = 0.0
        self.main_thread = threading.current_thread()
        self.heartbeat = _Heartbeat(run.pk) if heartbeat else _NoHeartbeat()

    def run(self):
        self.heartbeat.start()
        try:
            return self._run_suites()
        finally:
            self.heartbeat.stop()

    def _run_suites(self):
        run = self.run_row
        done = set(
            run.suite_runs.filter(status=RunStatus.SUCCEEDED).values_list("suite", flat=True)
        )
        try:
            target = Target(
                endpoints=[t["endpoint"] for t in run.targets],
                allowed=list(run.application.nodes.values_list("endpoint_url", flat=True)),
                faucet_key=settings.ENGINE_FAUCET_KEY or None,
                allowed_networks=outgoing.allowed_networks(),
            )
        except EngineError as exc:
            services.fail(run.pk, str(exc), actor=self.actor, invalid=True)
            return "failed"
        # One suite's error never hides another's: it is recorded on that suite and the
        # remaining suites still run; the run fails (as a job) once all have been tried.
        errors = []
        for index, suite in enumerate(run.suites):
            if suite in done:
                continue
            if services.cancel_requested(run.pk):
                services.stop_cancelled(run.pk)
                return "cancelled"
            self.index, self.suite = index, suite
            services.begin_suite(run, suite)
            try:
                self._report(0, "starting", force=True)
                result = run_suite(suite, target, run.parameters.get(suite, {}), self._progress)
            except RunCancelled:
                self._flush()
                services.finish_suite(run, suite, status=RunStatus.CANCELLED, error="cancelled")
                services.stop_cancelled(run.pk)
                return "cancelled"
            except EngineError as exc:
                errors.append(self._suite_error(suite, _reason(suite, exc), _outcome_of(exc)))
                continue
            except SoftTimeLimitExceeded:
                # The task's time is up: the hard limit follows, so no further suite starts.
                limit = settings.ENGINE_SOFT_TIME_LIMIT
                reason = f"{suite}: time limit of {limit} s exceeded"
                errors.append(self._suite_error(suite, reason, outcomes.INVALID))
                break
            except Exception as exc:
                logger.exception("test run %s: suite %s crashed", run.pk, suite)
                reason = f"{suite}: internal error ({type(exc).__name__})"
                errors.append(self._suite_error(suite, reason, outcomes.INVALID))
                continue
            self._report(100, "done", force=True, cancellable=False)
            services.finish_suite(run, suite, result=result.to_dict())
        if errors:
            services.fail(run.pk, "; ".join(errors), actor=self.actor)
            return "failed"
        services.finish(run.pk, actor=self.actor)
        return "succeeded"

    def _suite_error(self, suite, reason, outcome):
        self._flush()
        services.finish_suite(self.run_row, suite, error=reason, outcome=outcome)
        return reason

    def _progress(self, percent, message):
        """The engine's progress callback; may be called from the suite's own threads."""
        self._report(percent, message)

    def _report(self, percent, message, *, force=False, cancellable=True):
        with self.lock:
            self.percent = (self.index + percent / 100) / self.count * 100
            if message:
                self.step = f"{self.suite}: {message}"
                self.lines.append((timezone.now(), self.step))
        if cancellable and self.heartbeat.cancelled.is_set():
            raise RunCancelled("cancelled by a regulator")
        # Only the task's own thread writes; the suite's threads leave it their lines.
        if threading.current_thread() is not self.main_thread:
            return
        if force or time.monotonic() - self.last_write >= WRITE_INTERVAL:
            cancelled = self._flush()
            if cancelled and cancellable:
                self.heartbeat.cancelled.set()
                raise RunCancelled("cancelled by a regulator")

    def _flush(self):
        with self.lock:
            lines, self.lines = self.lines, []
            percent, step = self.percent, self.step
        self.last_write = time.monotonic()
        return services.progress(self.run_row.pk, percent, step, lines)


@shared_task(name="assessments.tasks.requeue_stale_runs")
def requeue_stale_runs():
    """Queue again every run whose worker stopped answering (a worker killed mid-run
    loses its message with a broker that does not re-deliver); give up after
    ``ENGINE_MAX_ATTEMPTS``. Send again the message of a run queued so long that the
    broker must have lost it. Runs on Celery beat and when a worker starts."""
    outcomes = {}
    for run_id in list(services.stale_runs().values_list("pk", flat=True)):
        outcome = services.requeue_stale(run_id)
        if outcome:
            outcomes[run_id] = outcome
            logger.warning("test run %s: worker stopped answering; %s", run_id, outcome)
    for run_id in list(services.lost_queued_runs().values_list("pk", flat=True)):
        outcome = services.resend_queued(run_id)
        if outcome:
            outcomes[run_id] = outcome
            logger.warning("test run %s: no worker took it; %s", run_id, outcome)
    return outcomes


@worker_ready.connect
def _sweep_when_a_worker_starts(**kwargs):
    try:
        requeue_stale_runs()
    except Exception:
        logger.exception("the sweep for stale test runs failed")
    finally:
        connection.close()
