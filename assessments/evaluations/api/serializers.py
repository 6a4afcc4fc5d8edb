"""Evaluations in the API: the scores, the recommendation, and what creates one."""

from rest_framework import serializers

from ..models import Evaluation


class EvaluationListSerializer(serializers.ModelSerializer):
    application_reference = serializers.CharField(source="application.reference", read_only=True)
    index_model = serializers.CharField(source="index_model.__str__", read_only=True)
    test_runs = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    created_by = serializers.CharField(source="created_by.username", read_only=True)
    issued_by = serializers.CharField(
        source="issued_by.username", read_only=True, allow_null=True, default=None
    )
    # Plain strings in the schema: their choice sets are already named by other collections.
    status = serializers.CharField(read_only=True, help_text='"draft" or "issued".')
    recommendation = serializers.CharField(
        read_only=True, help_text='"admit", "admit_with_conditions" or "reject".'
    )

    class Meta:
        model = Evaluation
        fields = [
            "id",
            "application",
            "application_reference",
            "version",
            "status",
            "index_model",
            "test_runs",
            "overall_score",
            "recommendation",
            "created_by",
            "created_at",
            "issued_by",
            "issued_at",
            "sha256",
        ]
        read_only_fields = fields


class EvaluationSerializer(EvaluationListSerializer):
    """One evaluation with its inputs and every indicator's score."""

    inputs = serializers.JSONField(
        read_only=True, help_text="The input values by source key, and where each came from."
    )
    results = serializers.JSONField(
        read_only=True,
        help_text="Layer, dimension and indicator scores, the not-assessed list, the reasons.",
    )

    class Meta(EvaluationListSerializer.Meta):
        fields = [*EvaluationListSerializer.Meta.fields, "inputs", "results"]
        read_only_fields = fields


class CreateEvaluationSerializer(serializers.Serializer):
    application = serializers.IntegerField(help_text="The case to evaluate.")
    test_runs = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        default=list,
        help_text="Finished test runs of the case to take evidence from.",
    )
    index_model = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The index model version (by default the latest default index).",
    )
