"""Technical test runs: one row per run of the engine against a case's nodes.

A ``TestRun`` is a job row the Celery worker writes into (status, progress, log), in the
shape of a job table: it is created ``queued`` by ``services.start_run``, claimed by the
worker, and ends ``succeeded``, ``failed`` or ``cancelled``. Each suite of a run has one
``SuiteRun`` holding the engine's ``SuiteResult.to_dict()``. Nothing here is ever deleted.
"""

from django.conf import settings
from django.db import models


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


FINISHED_STATUSES = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED)


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

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"Test run {self.pk} of {self.application.reference}"

    @property
    def is_finished(self):
        return self.status in FINISHED_STATUSES

    @property
    def passed(self):
        """True or False once every suite has a verdict; None while any has none."""
        verdicts = [s.passed for s in self.suite_runs.all()]
        if not verdicts or None in verdicts:
            return None
        return all(verdicts)


class SuiteRun(models.Model):
    """One suite of a test run and its result (``SuiteResult.to_dict()``)."""

    test_run = models.ForeignKey(TestRun, on_delete=models.PROTECT, related_name="suite_runs")
    suite = models.CharField(max_length=40)
    status = models.CharField(max_length=20, choices=RunStatus.choices, default=RunStatus.QUEUED)
    passed = models.BooleanField(null=True, blank=True)
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
