"""Test runs in the API: the run with its progress and results, and what starts one."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .. import outcomes
from ..models import SuiteRun, TestRun
from ..plans import SUITE_ORDER

LOG_TAIL_LINES = 50


OUTCOME_HELP = (
    "passed, failed, inconclusive (the evidence cannot decide) or not_judged (nothing to "
    "judge); invalid when the engine's own instrument misbehaved. Only failed counts "
    "against the firm."
)


class CheckOutcomeSerializer(serializers.Serializer):
    name = serializers.CharField()
    outcome = serializers.ChoiceField(choices=outcomes.CHECK_OUTCOMES)
    passed = serializers.BooleanField(allow_null=True)
    message = serializers.CharField(allow_blank=True)
    instrument = serializers.BooleanField()


class SuiteRunSerializer(serializers.ModelSerializer):
    outcome = serializers.SerializerMethodField(help_text=OUTCOME_HELP)
    invalid_reason = serializers.SerializerMethodField()
    checks = serializers.SerializerMethodField(
        help_text="Every check's outcome and message (read from passed for results stored "
        "before outcomes)."
    )
    result = serializers.JSONField(
        read_only=True,
        help_text="The engine's result: metrics, checks (name, outcome, passed, message, "
        "evidence), charts, logs.",
    )

    class Meta:
        model = SuiteRun
        fields = [
            "suite",
            "status",
            "outcome",
            "invalid_reason",
            "passed",
            "error",
            "started_at",
            "finished_at",
            "checks",
            "result",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=outcomes.RUN_OUTCOMES))
    def get_outcome(self, suite_run):
        return suite_run.current_outcome

    @extend_schema_field(OpenApiTypes.STR)
    def get_invalid_reason(self, suite_run):
        return suite_run.current_invalid_reason

    @extend_schema_field(CheckOutcomeSerializer(many=True))
    def get_checks(self, suite_run):
        checks = (suite_run.result or {}).get("checks")
        return [
            {
                "name": str(c.get("name", "")),
                "outcome": outcomes.check_outcome(c),
                "passed": outcomes.passed_of(outcomes.check_outcome(c)),
                "message": outcomes.check_message(c),
                "instrument": outcomes.is_instrument(c),
            }
            for c in (checks if isinstance(checks, list) else [])
            if isinstance(c, dict)
        ]


class TargetSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    label = serializers.CharField()
    endpoint = serializers.CharField()


class TestRunListSerializer(serializers.ModelSerializer):
    application_reference = serializers.CharField(source="application.reference", read_only=True)
    requested_by = serializers.CharField(source="requested_by.username", read_only=True)
    targets = TargetSerializer(many=True, read_only=True)
    suites = serializers.ListField(child=serializers.CharField(), read_only=True)
    outcome = serializers.CharField(
        source="current_outcome",
        read_only=True,
        help_text=OUTCOME_HELP + " Empty until the run has finished; apart from status, "
        "which says whether the job completed.",
    )
    invalid_reason = serializers.CharField(source="current_invalid_reason", read_only=True)

    class Meta:
        model = TestRun
        fields = [
            "id",
            "application",
            "application_reference",
            "suites",
            "targets",
            "status",
            "outcome",
            "invalid_reason",
            "progress",
            "current_step",
            "error",
            "requested_by",
            "created_at",
            "started_at",
            "finished_at",
            "cancel_requested_at",
            "attempts",
        ]
        read_only_fields = fields


class TestRunSerializer(TestRunListSerializer):
    """A whole run: plan, progress, the tail of its log and every suite's result."""

    parameters = serializers.JSONField(read_only=True)
    log_tail = serializers.SerializerMethodField()
    passed = serializers.SerializerMethodField()
    suite_runs = SuiteRunSerializer(many=True, read_only=True)

    class Meta(TestRunListSerializer.Meta):
        fields = [
            *TestRunListSerializer.Meta.fields,
            "parameters",
            "log_tail",
            "passed",
            "suite_runs",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_log_tail(self, run):
        return "\n".join(run.log.splitlines()[-LOG_TAIL_LINES:])

    @extend_schema_field(serializers.BooleanField(allow_null=True))
    def get_passed(self, run):
        """True iff the outcome is passed, False iff failed, else None."""
        return run.passed


class StartTestRunSerializer(serializers.Serializer):
    application = serializers.IntegerField(help_text="The case whose nodes are tested.")
    suites = serializers.ListField(
        child=serializers.ChoiceField(choices=SUITE_ORDER), allow_empty=False
    )
    parameters = serializers.DictField(
        child=serializers.DictField(),
        required=False,
        default=dict,
        help_text="Parameters per suite; a suite left out runs with the plan's defaults.",
    )
    nodes = serializers.ListField(
        child=serializers.IntegerField(),
        allow_empty=False,
        help_text="Ids of nodes registered for the case.",
    )
