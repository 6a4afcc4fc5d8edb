"""The layered index model and the evaluations scored against it.

An ``IndexModel`` is a versioned tree (layer -> dimension -> indicator). Once an evaluation
has used a version it is locked: nothing in its tree may be saved or deleted again, and a
change means a new version (``services.new_version``). An ``Evaluation`` scores one case
against one index version and a chosen set of finished test runs; once issued it is frozen
with its canonical JSON and that JSON's SHA-256, and nothing about it may change.
"""

from django.conf import settings
from django.db import models

from applications.models import Category, DecisionOutcome
from applications.services.common import IllegalTransition


class Frozen(IllegalTransition):
    """A locked index model or an issued evaluation was asked to change."""


class IndexStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    LOCKED = "locked", "Locked"


class SourceKind(models.TextChoices):
    ENGINE_METRIC = "engine_metric", "Engine metric"
    ENGINE_CHECK = "engine_check", "Engine check"
    ELIGIBILITY = "eligibility", "Eligibility criterion"
    TIER_STATUS = "tier_status", "Tier status"
    PHYSICAL = "physical", "Physical criterion"


class Rule(models.TextChoices):
    PASS_FAIL = "pass_fail", "Pass or fail"
    THRESHOLD = "threshold", "Threshold"
    LINEAR = "linear", "Linear between bounds"


class Recommendation(models.TextChoices):
    """What an evaluation recommends: a decision, or a re-test while a mandatory indicator
    is inconclusive (no admission can rest on it)."""

    ADMIT = DecisionOutcome.ADMIT.value, DecisionOutcome.ADMIT.label
    ADMIT_WITH_CONDITIONS = (
        DecisionOutcome.ADMIT_WITH_CONDITIONS.value,
        DecisionOutcome.ADMIT_WITH_CONDITIONS.label,
    )
    REJECT = DecisionOutcome.REJECT.value, DecisionOutcome.REJECT.label
    RETEST = "retest", "Re-test before admission"


class Operator(models.TextChoices):
    LE = "<=", "at most"
    LT = "<", "below"
    GE = ">=", "at least"
    GT = ">", "above"


class EvaluationStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ISSUED = "issued", "Issued"


DEFAULT_INDEX_NAME = "Access evaluation index"


class IndexModel(models.Model):
    """One version of an evaluation index; locked once an evaluation used it."""

    name = models.CharField(max_length=200)
    version = models.PositiveIntegerField(default=1)
    description = models.TextField(blank=True)
    status = models.CharField(
        max_length=10, choices=IndexStatus.choices, default=IndexStatus.DRAFT, editable=False
    )
    locked_at = models.DateTimeField(null=True, blank=True, editable=False)
    admit_threshold = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=80,
        help_text="Overall score from which the recommendation is admit.",
    )
    conditions_threshold = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=60,
        help_text="Overall score from which the recommendation is admit with conditions.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="unique_index_version"),
        ]

    def __str__(self):
        return f"{self.name} v{self.version}"

    @property
    def is_locked(self):
        return self.status == IndexStatus.LOCKED

    def stored_locked(self):
        """Whether the row as stored is locked (what is in memory may be stale)."""
        if self.pk is None:
            return False
        return IndexModel.objects.filter(pk=self.pk, status=IndexStatus.LOCKED).exists()

    def save(self, *args, **kwargs):
        if self.stored_locked():
            raise Frozen(f"{self} is locked: make a new version to change it.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.stored_locked():
            raise Frozen(f"{self} is locked and cannot be deleted.")
        return super().delete(*args, **kwargs)


class _TreeNode(models.Model):
    """A layer, dimension or indicator: refuses change once its index model is locked."""

    order = models.PositiveIntegerField(default=0)
    weight = models.DecimalField(max_digits=8, decimal_places=3, default=1)

    class Meta:
        abstract = True

    def index_model_id_for_guard(self):
        raise NotImplementedError

    def _refuse_if_locked(self, verb):
        ids = {self.index_model_id_for_guard()}
        if self.pk is not None:
            stored = type(self).objects.filter(pk=self.pk).first()
            if stored is not None:
                ids.add(stored.index_model_id_for_guard())
        if IndexModel.objects.filter(pk__in=ids - {None}, status=IndexStatus.LOCKED).exists():
            raise Frozen(
                f"The index model is locked: this {self._meta.verbose_name} cannot {verb}."
            )

    def save(self, *args, **kwargs):
        self._refuse_if_locked("change")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self._refuse_if_locked("be deleted")
        return super().delete(*args, **kwargs)


class Layer(_TreeNode):
    index_model = models.ForeignKey(IndexModel, on_delete=models.CASCADE, related_name="layers")
    code = models.SlugField(max_length=60)
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["index_model", "order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["index_model", "code"], name="unique_layer_code"),
        ]

    def __str__(self):
        return self.name

    def index_model_id_for_guard(self):
        return self.index_model_id


class Dimension(_TreeNode):
    layer = models.ForeignKey(Layer, on_delete=models.CASCADE, related_name="dimensions")
    code = models.SlugField(max_length=60)
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["layer", "order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["layer", "code"], name="unique_dimension_code"),
        ]

    def __str__(self):
        return self.name

    def index_model_id_for_guard(self):
        if self.layer_id is None:
            return None
        return (
            Layer.objects.filter(pk=self.layer_id).values_list("index_model_id", flat=True).first()
        )


class Indicator(_TreeNode):
    dimension = models.ForeignKey(Dimension, on_delete=models.CASCADE, related_name="indicators")
    code = models.SlugField(max_length=80)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    source_kind = models.CharField(max_length=20, choices=SourceKind.choices)
    source_key = models.CharField(
        max_length=200,
        help_text='Where the input comes from, e.g. "payment.metrics.latency_p99_s", '
        '"crypto.checks.signatures_recover", "eligibility.consumer_benefit", "tier.physical".',
    )
    rule = models.CharField(max_length=20, choices=Rule.choices, default=Rule.PASS_FAIL)
    operator = models.CharField(max_length=2, choices=Operator.choices, blank=True)
    threshold = models.FloatField(null=True, blank=True)
    lower = models.FloatField(null=True, blank=True)
    upper = models.FloatField(null=True, blank=True)
    higher_is_better = models.BooleanField(default=True)
    mandatory = models.BooleanField(default=False)
    categories = models.JSONField(
        default=list, blank=True, help_text="Project categories it applies to; empty for all."
    )
    levels = models.JSONField(
        default=list, blank=True, help_text="Technical levels (0-3) it applies to; empty for all."
    )
    pfmi_principle = models.CharField(
        "PFMI principle", max_length=120, blank=True, help_text='e.g. "P17 operational risk"'
    )

    class Meta:
        ordering = ["dimension", "order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["dimension", "code"], name="unique_indicator_code"),
        ]

    def __str__(self):
        return f"{self.code}: {self.name}"

    def index_model_id_for_guard(self):
        if self.dimension_id is None:
            return None
        return (
            Dimension.objects.filter(pk=self.dimension_id)
            .values_list("layer__index_model_id", flat=True)
            .first()
        )


CATEGORY_VALUES = [value for value, _ in Category.choices]


class Evaluation(models.Model):
    """One scoring of a case against an index version; immutable once issued."""

    application = models.ForeignKey(
        "applications.Application", on_delete=models.PROTECT, related_name="evaluations"
    )
    index_model = models.ForeignKey(
        IndexModel, on_delete=models.PROTECT, related_name="evaluations"
    )
    test_runs = models.ManyToManyField(
        "assessments.TestRun", blank=True, related_name="evaluations"
    )
    version = models.PositiveIntegerField()
    status = models.CharField(
        max_length=10, choices=EvaluationStatus.choices, default=EvaluationStatus.DRAFT
    )
    inputs = models.JSONField(default=dict, blank=True)
    results = models.JSONField(default=dict, blank=True)
    overall_score = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    recommendation = models.CharField(max_length=30, choices=Recommendation.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    issued_at = models.DateTimeField(null=True, blank=True)
    canonical_json = models.TextField(blank=True)
    sha256 = models.CharField(max_length=64, blank=True, db_index=True)

    class Meta:
        ordering = ["application", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "version"], name="unique_evaluation_version"
            ),
        ]

    def __str__(self):
        return f"Evaluation v{self.version} of {self.application.reference}"

    @property
    def is_issued(self):
        return self.status == EvaluationStatus.ISSUED

    @property
    def admission_blockers(self):
        """Why no admission may rest on this evaluation: one sentence per inconclusive
        mandatory indicator (none for an evaluation scored before outcomes existed)."""
        blockers = (self.results or {}).get("blockers")
        return [str(b) for b in blockers] if isinstance(blockers, list) else []

    def stored_issued(self):
        if self.pk is None:
            return False
        return Evaluation.objects.filter(pk=self.pk, status=EvaluationStatus.ISSUED).exists()

    def save(self, *args, **kwargs):
        if self.stored_issued():
            raise Frozen(f"{self} is issued and cannot change: make a new version.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.stored_issued():
            raise Frozen(f"{self} is issued and cannot be deleted.")
        return super().delete(*args, **kwargs)
