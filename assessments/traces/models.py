"""Uploaded evidence files: consensus traces and ledger histories (JSON Lines).

A ``TraceUpload`` is the file as it arrived (stored under its SHA-256, never changed or
deleted) and what its check produced: a finished ``TestRun`` of the case with one
``SuiteRun`` (``consensus_trace`` or ``ledger``), so an evaluation can cite it like any run.
"""

from django.conf import settings
from django.db import models


class TraceKind(models.TextChoices):
    CONSENSUS = "consensus", "Consensus trace"
    LEDGER = "ledger", "Ledger history"


# The engine suite that checks each kind, and the name its SuiteRun carries.
SUITE_OF_KIND = {TraceKind.CONSENSUS: "consensus_trace", TraceKind.LEDGER: "ledger"}


class CheckStatus(models.TextChoices):
    QUEUED = "queued", "Waiting for the engine"
    CHECKED = "checked", "Checked"
    FAILED = "failed", "Could not be checked"


def stored_name(upload, filename):
    return f"traces/{upload.sha256[:2]}/{upload.sha256}.jsonl"


class TraceUpload(models.Model):
    application = models.ForeignKey(
        "applications.Application", on_delete=models.PROTECT, related_name="trace_uploads"
    )
    kind = models.CharField(max_length=20, choices=TraceKind.choices)
    file = models.FileField(upload_to=stored_name, max_length=300)
    original_name = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    lines = models.PositiveBigIntegerField(default=0)
    summary = models.JSONField(
        default=dict, blank=True, help_text="What reading the file on arrival found."
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(
        max_length=20, choices=CheckStatus.choices, default=CheckStatus.QUEUED, db_index=True
    )
    error = models.TextField(blank=True)
    test_run = models.OneToOneField(
        "assessments.TestRun",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="trace_upload",
        help_text="The finished run that records the check.",
    )
    queued_at = models.DateTimeField(null=True, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-uploaded_at", "-pk"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.pk} of {self.application.reference}"

    @property
    def suite(self):
        return SUITE_OF_KIND[self.kind]

    @property
    def summary_rows(self):
        """The summary as (label, value) pairs for pages: ``first_height`` reads "First height"."""
        return [
            (str(key).replace("_", " ").capitalize(), value)
            for key, value in (self.summary or {}).items()
        ]

    @property
    def suite_run(self):
        if self.test_run_id is None:
            return None
        return self.test_run.suite_runs.first()
