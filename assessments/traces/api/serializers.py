"""Uploaded traces in the API: the upload with its check, and what uploads one."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from applications.api.serializers import RejectUnknownFields

from ..models import TraceKind, TraceUpload


class TraceUploadSerializer(serializers.ModelSerializer):
    application_reference = serializers.CharField(source="application.reference", read_only=True)
    uploaded_by = serializers.CharField(source="uploaded_by.username", read_only=True)
    summary = serializers.JSONField(read_only=True, help_text="What reading the file found.")
    passed = serializers.SerializerMethodField()
    result = serializers.SerializerMethodField()

    class Meta:
        model = TraceUpload
        fields = [
            "id",
            "application",
            "application_reference",
            "kind",
            "original_name",
            "size",
            "sha256",
            "lines",
            "summary",
            "status",
            "error",
            "uploaded_by",
            "uploaded_at",
            "checked_at",
            "test_run",
            "passed",
            "result",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.BooleanField(allow_null=True))
    def get_passed(self, upload):
        suite_run = upload.suite_run
        return None if suite_run is None else suite_run.passed

    @extend_schema_field(serializers.JSONField(allow_null=True))
    def get_result(self, upload):
        """The engine's result (metrics, checks with evidence, charts) once checked."""
        suite_run = upload.suite_run
        return None if suite_run is None else suite_run.result


class TraceUploadCreateSerializer(RejectUnknownFields, serializers.Serializer):
    application = serializers.IntegerField(help_text="The case the file is evidence for.")
    kind = serializers.ChoiceField(choices=TraceKind.choices)
    file = serializers.FileField(
        allow_empty_file=True, help_text="The trace or history, JSON Lines (see the docs)."
    )
