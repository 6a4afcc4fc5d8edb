"""Technical test runs: one row per run of the engine against a case's nodes.

A ``TestRun`` is a job row the Celery worker writes into (status, progress, log), in the
shape of a job table: it is created ``queued`` by ``services.start_run``, claimed by the
worker, and ends ``succeeded``, ``failed`` or ``cancelled``. Each suite of a run has one
``SuiteRun`` holding the engine's ``SuiteResult.to_dict()``. Nothing here is ever deleted.

Apart from its job ``status``, each suite and run has an ``outcome`` (``outcomes``): what
the test found. A run whose job failed may still have passed suites, and a run that
completed may be invalid (its own instrument misbehaved) rather than failed.
"""

from django.conf import settings
from django.db import models

from . import outcomes


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


FINISHED_STATUSES = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED)


class Outcome(models.TextChoices):
    """What a suite or run found, apart from whether its job completed (``status``)."""

    PASSED = outcomes.PASSED, "Passed"
    FAILED = outcomes.FAILED, "Failed"
    INCONCLUSIVE = outcomes.INCONCLUSIVE, "Inconclusive"
    NOT_JUDGED = outcomes.NOT_JUDGED, "Not judged"
    INVALID = outcomes.INVALID, "Invalid"


class TestRun(models.Model):
    """One run of one or more engine suites against nodes registered for a case."""

    # pytest collects classes named Test*; this one is a model, not a test.
    __test__ = False

    application = models.ForeignKey(
        "applications.Application", on_delete=models.PROTECT, related_name="test_runs"
    )
    suites = models.JSONField(default=list, help_text="Suite names, in the order they run.")
    parameters = models.JSONField(default=dict, blank=True, help_text="Parameters per suite.")
    nodes = models.ManyToManyField("applications.Node", blank=True, related_name="test_runs")
    targets = models.JSONField(
        default=list,
        blank=True,
        help_text="The nodes as they were at the start: id, label and endpoint.",
    )
    status = models.CharField(
        max_length=20, choices=RunStatus.choices, default=RunStatus.QUEUED, db_index=True
    )
    progress = models.PositiveSmallIntegerField(default=0)
    current_step = models.CharField(max_length=300, blank=True)
    log = models.TextField(blank=True)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="Last sign of life from the worker running it."
    )
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    celery_task_id = models.CharField(max_length=255, blank=True)
    sent_at = models.DateTimeField(
        null=True, blank=True, help_text="When its task message was last sent to the broker."
    )
    outcome = models.CharField(
        max_length=20,
        choices=Outcome.choices,
        blank=True,
        help_text="What the run found, set when it ends: invalid if a suite's own "
        "instrument misbehaved, else failed, inconclusive, passed or not judged.",
    )
    invalid_reason = models.TextField(
        blank=True, help_text="Why the run is invalid: its invalid suites' reasons."
    )

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"Test run {self.pk} of {self.application.reference}"

    @property
    def is_finished(self):
        return self.status in FINISHED_STATUSES

    @property
    def current_outcome(self):
        """The stored outcome; for a finished run recorded without one, the suites'
        outcomes combined; "" while the run has not finished."""
        if self.outcome:
            return self.outcome
        if not self.is_finished:
            return ""
        return outcomes.combine(s.current_outcome for s in self.suite_runs.all())

    @property
    def current_invalid_reason(self):
        if self.invalid_reason or self.outcome:
            return self.invalid_reason
        return "; ".join(
            f"{s.suite}: {s.current_invalid_reason}"
            for s in self.suite_runs.all()
            if s.current_outcome == outcomes.INVALID
        )

    @property
    def outcome_label(self):
        return outcomes.LABELS.get(self.current_outcome, "")

    @property
    def passed(self):
        """True iff the run passed, False iff it failed; None otherwise (inconclusive,
        not judged, invalid or not finished)."""
        return outcomes.passed_of(self.current_outcome)


class SuiteRun(models.Model):
    """One suite of a test run and its result (``SuiteResult.to_dict()``)."""

    test_run = models.ForeignKey(TestRun, on_delete=models.PROTECT, related_name="suite_runs")
    suite = models.CharField(max_length=40)
    status = models.CharField(max_length=20, choices=RunStatus.choices, default=RunStatus.QUEUED)
    passed = models.BooleanField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    invalid_reason = models.TextField(blank=True)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["test_run", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["test_run", "suite"], name="unique_suite_per_run"),
        ]

    def __str__(self):
        return f"{self.suite} of test run {self.test_run_id}"

    @property
    def current_outcome(self):
        """The stored outcome; for a row recorded without one, read from its result (an
        old result: from ``passed``), an error with no result counting as failed."""
        if self.outcome:
            return self.outcome
        if self.status == RunStatus.CANCELLED:
            return outcomes.NOT_JUDGED
        if self.error and not self.result:
            return outcomes.FAILED
        return outcomes.suite_outcome(self.result, self.passed)

    @property
    def current_invalid_reason(self):
        if self.invalid_reason or self.outcome:
            return self.invalid_reason
        return outcomes.suite_invalid_reason(self.result)

    @property
    def outcome_label(self):
        return outcomes.LABELS.get(self.current_outcome, "")
