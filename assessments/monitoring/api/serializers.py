"""Monitoring incidents in the API."""

from rest_framework import serializers

from ..models import Incident


class IncidentNodeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    label = serializers.CharField()
    endpoint = serializers.CharField(source="endpoint_url")


class IncidentSerializer(serializers.ModelSerializer):
    application_reference = serializers.CharField(source="application.reference", read_only=True)
    nodes = IncidentNodeSerializer(many=True, read_only=True)
    acknowledged_by = serializers.CharField(
        source="acknowledged_by.username", read_only=True, allow_null=True, default=None
    )
    detail = serializers.JSONField(
        read_only=True, help_text="What the rule saw: heights, hashes, latencies, the error."
    )

    class Meta:
        model = Incident
        fields = [
            "id",
            "application",
            "application_reference",
            "rule",
            "key",
            "nodes",
            "status",
            "opened_at",
            "last_seen_at",
            "cleared_at",
            "cleared_reason",
            "detail",
            "acknowledged_by",
            "acknowledged_at",
        ]
        read_only_fields = fields


class MonitoringSummaryRequestSerializer(serializers.Serializer):
    """The case and the whole days a monitoring summary covers (to the end of ``end``)."""

    application = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    start = serializers.DateField(help_text="First day.")
    end = serializers.DateField(help_text="Last day (not in the future).")
