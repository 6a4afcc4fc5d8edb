from rest_framework import serializers
from rest_framework.reverse import reverse

from ..models import AccessEvaluationReport


class ReportSerializer(serializers.ModelSerializer):
    number = serializers.CharField(read_only=True)
    application = serializers.IntegerField(source="evaluation.application_id", read_only=True)
    case_reference = serializers.CharField(
        source="evaluation.application.reference", read_only=True
    )
    evaluation_version = serializers.IntegerField(source="evaluation.version", read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = AccessEvaluationReport
        fields = [
            "id",
            "number",
            "evaluation",
            "evaluation_version",
            "application",
            "case_reference",
            "status",
            "progress",
            "error",
            "pdf_sha256",
            "json_sha256",
            "signature",
            "key_fingerprint",
            "created_at",
            "finished_at",
            "download_url",
        ]
        read_only_fields = fields

    def get_download_url(self, report) -> str | None:
        if not report.is_ready:
            return None
        return reverse("api:report-download", args=[report.pk], request=self.context.get("request"))


class RequestReportSerializer(serializers.Serializer):
    evaluation = serializers.IntegerField(help_text="The id of an issued evaluation.")


class VerifyUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The report PDF (at most 20 MB).")


class VerdictEvaluationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    case_reference = serializers.CharField()
    application = serializers.IntegerField()
    version = serializers.IntegerField()
    issued_at = serializers.CharField(allow_null=True)


class VerdictSerializer(serializers.Serializer):
    authentic = serializers.BooleanField()
    reason = serializers.CharField()
    json_sha256 = serializers.CharField(allow_blank=True)
    signature = serializers.CharField(allow_blank=True)
    key_fingerprint = serializers.CharField(allow_blank=True)
    report = serializers.CharField(allow_blank=True)
    evaluation = VerdictEvaluationSerializer(allow_null=True)
