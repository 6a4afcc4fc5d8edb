"""Access-evaluation reports: one signed PDF/A-3 rendering of one issued evaluation.

A report row is a job the ``reports`` worker writes into (status, progress, error) and,
once ``ready``, the record of what was issued: the PDF's SHA-256, the SHA-256 of the
evaluation's canonical JSON embedded in it, the Ed25519 signature over that JSON and the
fingerprint of the key that made it. Nothing here is ever deleted.
"""

from django.conf import settings
from django.db import models

from applications.services.common import IllegalTransition


class ReportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RENDERING = "rendering", "Rendering"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


IN_FLIGHT = (ReportStatus.QUEUED, ReportStatus.RENDERING)


class AccessEvaluationReport(models.Model):
    """The signed PDF of an issued evaluation."""

    evaluation = models.ForeignKey(
        "evaluations.Evaluation", on_delete=models.PROTECT, related_name="reports"
    )
    status = models.CharField(
        max_length=12, choices=ReportStatus.choices, default=ReportStatus.QUEUED, db_index=True
    )
    progress = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    pdf = models.FileField(upload_to="reports/", max_length=300, blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    json_sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    signature = models.TextField(blank=True, help_text="Base64 Ed25519 signature of the JSON.")
    key_fingerprint = models.CharField(
        "public key fingerprint", max_length=64, blank=True, help_text="SHA-256 of the raw key."
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(
        null=True, blank=True, help_text="When a task message for it was last sent."
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"Report {self.number}"

    @property
    def number(self):
        """The report's id as printed in its running header."""
        return f"AER-{self.pk:06d}" if self.pk else "AER-new"

    @property
    def is_ready(self):
        return self.status == ReportStatus.READY

    @property
    def is_finished(self):
        return self.status in (ReportStatus.READY, ReportStatus.FAILED)

    def save(self, *args, **kwargs):
        if self.pk is None and not self.evaluation.is_issued:
            raise IllegalTransition("Only an issued evaluation has a report: issue it first.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise IllegalTransition("Reports are never deleted.")

    @property
    def filename(self):
        return f"{self.evaluation.application.reference}-{self.number}.pdf"
