"""Projects, cohorts and the application (the case) with its institutional content."""

import uuid

from django.conf import settings
from django.db import models
from django_fsm import RETURN_VALUE, ConcurrentTransitionMixin, FSMField, transition
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from .choices import (
    WITHDRAWABLE_STATES,
    AssessmentOutcome,
    Category,
    Criterion,
    DecisionOutcome,
    DocumentKind,
    ExitOutcome,
    State,
    TechLevel,
    Tier,
    TierState,
)
from .firms import Firm, Node

User = settings.AUTH_USER_MODEL


class Project(models.Model):
    firm = models.ForeignKey(Firm, on_delete=models.PROTECT, related_name="projects")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    category = models.CharField(max_length=20, choices=Category.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["firm", "name"]
        constraints = [
            models.UniqueConstraint(fields=["firm", "name"], name="unique_project_name"),
        ]

    def __str__(self):
        return self.name


class Cohort(models.Model):
    """An intake round. Applications without a cohort are on rolling intake."""

    name = models.CharField(max_length=120, unique=True)
    intake_opens = models.DateField()
    intake_closes = models.DateField()
    capacity = models.PositiveIntegerField()

    class Meta:
        ordering = ["-intake_opens"]

    def __str__(self):
        return self.name


class Application(ConcurrentTransitionMixin, models.Model):
    """A sandbox case: one project's application, from draft to exit.

    ``state`` only ever changes through ``applications.services.lifecycle``.
    """

    reference = models.CharField(max_length=20, unique=True, editable=False)
    firm = models.ForeignKey(Firm, on_delete=models.PROTECT, related_name="applications")
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="applications")
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    state = FSMField(default=State.DRAFT, choices=State.choices, db_index=True)
    cohort = models.ForeignKey(
        Cohort,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="applications",
        help_text="Leave empty for rolling intake.",
    )
    case_officer = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="assigned_cases"
    )
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    # Test plan
    hypothesis = models.TextField(blank=True)
    success_metrics = models.TextField(blank=True)
    test_start = models.DateField(null=True, blank=True)
    test_end = models.DateField(null=True, blank=True)
    customer_cap = models.PositiveIntegerField(null=True, blank=True)
    transaction_cap = models.DecimalField(
        "cap per transaction", max_digits=14, decimal_places=2, null=True, blank=True
    )
    aggregate_cap = models.DecimalField(
        "aggregate transaction cap", max_digits=16, decimal_places=2, null=True, blank=True
    )
    customer_selection = models.TextField(blank=True)

    # Safeguards
    safeguard_consent = models.TextField("informed consent", blank=True)
    safeguard_disclosure = models.TextField("disclosure", blank=True)
    safeguard_complaints = models.TextField("complaints handling", blank=True)
    safeguard_compensation = models.TextField("compensation", blank=True)
    safeguard_capital = models.TextField("capital", blank=True)

    # Requested relief and exit strategy
    relief_requested = models.JSONField(default=list, blank=True)
    relief_detail = models.TextField(blank=True)
    exit_strategy = models.TextField("exit and transition strategy", blank=True)

    # Technical tier
    target_level = models.IntegerField(choices=TechLevel.choices, default=TechLevel.L1)
    achieved_level = models.IntegerField(choices=TechLevel.choices, default=TechLevel.L0)
    nodes = models.ManyToManyField(Node, blank=True, related_name="applications")

    # Recommendation (by a case officer)
    recommendation = models.CharField(max_length=30, choices=DecisionOutcome.choices, blank=True)
    recommendation_rationale = models.TextField(blank=True)
    recommended_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recommended_at = models.DateTimeField(null=True, blank=True)
    recommendation_evaluation = models.ForeignKey(
        "evaluations.Evaluation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The issued evaluation the recommendation cites.",
    )

    # In the sandbox and out of it
    sandbox_started_at = models.DateTimeField(null=True, blank=True)
    sandbox_ends_on = models.DateField(null=True, blank=True)
    exit_outcome = models.CharField(max_length=20, choices=ExitOutcome.choices, blank=True)
    exit_rationale = models.TextField(blank=True)
    exited_at = models.DateTimeField(null=True, blank=True)
    withdrawn_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [("audit_application", "Audit the application")]

    def __str__(self):
        return f"{self.reference} {self.title}"

    # The state machine. Each method only moves ``state``; the service of the same
    # name in ``applications.services.lifecycle`` checks who may call it, locks the
    # row, records the audit event and notifies after commit.
    @transition(field=state, source=State.DRAFT, target=State.SUBMITTED)
    def submit(self):
        pass

    @transition(field=state, source=State.SUBMITTED, target=State.SCREENING)
    def start_screening(self):
        pass

    @transition(field=state, source=State.SCREENING, target=State.UNDER_REVIEW)
    def accept_for_review(self):
        pass

    @transition(field=state, source=State.UNDER_REVIEW, target=State.AWAITING_FIRM)
    def request_information(self):
        pass

    @transition(field=state, source=State.AWAITING_FIRM, target=State.UNDER_REVIEW)
    def answer_information(self):
        pass

    @transition(field=state, source=State.UNDER_REVIEW, target=State.TECHNICAL_TESTING)
    def send_to_testing(self):
        pass

    def _testing_done_or_not_needed(self):
        return self.state == State.TECHNICAL_TESTING or self.target_level == TechLevel.L0

    @transition(
        field=state,
        source=[State.UNDER_REVIEW, State.TECHNICAL_TESTING],
        target=State.EVALUATION,
        conditions=[_testing_done_or_not_needed],
    )
    def send_to_evaluation(self):
        pass

    @transition(field=state, source=State.EVALUATION, target=State.RECOMMENDED)
    def recommend(self):
        pass

    @transition(
        field=state,
        source=State.RECOMMENDED,
        target=RETURN_VALUE(State.ADMITTED, State.ADMITTED_WITH_CONDITIONS, State.REJECTED),
    )
    def decide(self, target_state):
        return target_state

    @transition(
        field=state,
        source=[State.ADMITTED, State.ADMITTED_WITH_CONDITIONS],
        target=State.IN_SANDBOX,
    )
    def start_sandbox(self):
        pass

    @transition(field=state, source=State.IN_SANDBOX, target=State.EXIT_REVIEW)
    def start_exit_review(self):
        pass

    @transition(field=state, source=State.EXIT_REVIEW, target=State.EXITED)
    def close_exit(self):
        pass

    @transition(field=state, source=WITHDRAWABLE_STATES, target=State.WITHDRAWN)
    def withdraw(self):
        pass

    def save(self, *args, **kwargs):
        if self.reference:
            return super().save(*args, **kwargs)
        # The reference derives from the primary key, so concurrent creates never collide.
        self.reference = f"new-{uuid.uuid4().hex[:16]}"
        super().save(*args, **kwargs)
        self.reference = f"SBX-{self.created_at:%Y}-{self.pk:05d}"
        Application.objects.filter(pk=self.pk).update(reference=self.reference)


class ApplicationUserObjectPermission(UserObjectPermissionBase):
    """Direct foreign-key grants, such as one auditor on one case."""

    content_object = models.ForeignKey(Application, on_delete=models.CASCADE)


class ApplicationGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Application, on_delete=models.CASCADE)


class EligibilityAnswer(models.Model):
    """One FCA criterion: the firm's answer and the regulator's assessment."""

    application = models.ForeignKey(
        Application, on_delete=models.PROTECT, related_name="eligibility"
    )
    criterion = models.CharField(max_length=30, choices=Criterion.choices)
    firm_answer = models.TextField(blank=True)
    assessment = models.CharField(
        max_length=10, choices=AssessmentOutcome.choices, blank=True, default=""
    )
    rationale = models.TextField(blank=True)
    assessed_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    assessed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["application", "criterion"]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "criterion"], name="unique_eligibility_criterion"
            ),
        ]

    def __str__(self):
        return f"{self.application.reference}: {self.get_criterion_display()}"


class TierStatus(models.Model):
    application = models.ForeignKey(
        Application, on_delete=models.PROTECT, related_name="tier_statuses"
    )
    tier = models.CharField(max_length=20, choices=Tier.choices)
    status = models.CharField(
        max_length=20, choices=TierState.choices, default=TierState.NOT_STARTED
    )
    set_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    set_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["application", "tier"]
        verbose_name_plural = "tier statuses"
        constraints = [
            models.UniqueConstraint(fields=["application", "tier"], name="unique_tier_status"),
        ]

    def __str__(self):
        return f"{self.get_tier_display()}: {self.get_status_display()}"


def document_path(instance, filename):
    return f"documents/{instance.application_id}/{instance.sha256}"


class Document(models.Model):
    """An uploaded document, stored under its SHA-256. Never deleted."""

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="documents")
    kind = models.CharField(max_length=20, choices=DocumentKind.choices)
    file = models.FileField(upload_to=document_path, max_length=300)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    uploaded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-uploaded_at"]

    def __str__(self):
        return self.original_name
