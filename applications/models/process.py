"""What happens to a case: requests for information, decisions, conditions, firm reports."""

from django.conf import settings
from django.db import models

from .cases import Application
from .choices import ConditionStatus, DecisionOutcome, FirmReportKind

User = settings.AUTH_USER_MODEL


class RequestForInformation(models.Model):
    """A regulator's question. While it is open the case's clock is paused."""

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="rfis")
    question = models.TextField()
    due_date = models.DateField(null=True, blank=True)
    raised_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    raised_at = models.DateTimeField()
    answer = models.TextField(blank=True)
    answered_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-raised_at"]
        verbose_name = "request for information"
        verbose_name_plural = "requests for information"

    def __str__(self):
        return f"RFI {self.pk} on {self.application.reference}"

    @property
    def is_open(self):
        return self.answered_at is None


class Decision(models.Model):
    application = models.OneToOneField(
        Application, on_delete=models.PROTECT, related_name="decision"
    )
    outcome = models.CharField(max_length=30, choices=DecisionOutcome.choices)
    rationale = models.TextField()
    testing_parameters = models.JSONField(default=dict, blank=True)
    decided_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField()

    def __str__(self):
        return f"{self.get_outcome_display()} ({self.application.reference})"


class Condition(models.Model):
    application = models.ForeignKey(
        Application, on_delete=models.PROTECT, related_name="conditions"
    )
    decision = models.ForeignKey(
        Decision, null=True, blank=True, on_delete=models.PROTECT, related_name="conditions"
    )
    text = models.TextField()
    due_date = models.DateField()
    status = models.CharField(
        max_length=10, choices=ConditionStatus.choices, default=ConditionStatus.OPEN
    )
    status_note = models.TextField(blank=True)
    status_set_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status_set_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_date", "pk"]

    def __str__(self):
        return self.text[:80]


class FirmReport(models.Model):
    """A periodic, incident or final report from the firm while in the sandbox."""

    application = models.ForeignKey(
        Application, on_delete=models.PROTECT, related_name="firm_reports"
    )
    kind = models.CharField(max_length=10, choices=FirmReportKind.choices)
    title = models.CharField(max_length=200)
    body = models.TextField()
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)
    occurred_at = models.DateTimeField(
        null=True, blank=True, help_text="For incidents: when it happened."
    )
    submitted_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField()

    class Meta:
        ordering = ["-submitted_at"]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.title}"
