"""The report collection: list, read, request, download, and verify an uploaded PDF.

Reports come from ``reports.queries.reports_for`` (a report outside the caller's scope is
not found); requesting, downloading and verifying go through ``reports.services``.
"""

import django_filters
from django.conf import settings
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from applications.api.common import ScopedViewSet
from applications.filters import WholeNumberFilter
from applications.services.common import IllegalTransition
from assessments.evaluations.queries import evaluations_for

from .. import services
from ..models import AccessEvaluationReport, ReportStatus
from ..queries import reports_for
from .serializers import (
    ReportSerializer,
    RequestReportSerializer,
    VerdictSerializer,
    VerifyUploadSerializer,
)


class ReportFilter(django_filters.FilterSet):
    evaluation = WholeNumberFilter(field_name="evaluation_id")
    application = WholeNumberFilter(field_name="evaluation__application_id")
    status = django_filters.ChoiceFilter(choices=ReportStatus.choices)

    class Meta:
        model = AccessEvaluationReport
        fields = ["evaluation", "application", "status"]


@extend_schema_view(
    list=extend_schema(summary="The access-evaluation reports of the cases the caller may see"),
    retrieve=extend_schema(summary="A report: status, progress 0-100, hashes and signature"),
)
class ReportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Signed PDF/A-3 reports of issued evaluations. Nothing is ever deleted."""

    scope = staticmethod(reports_for)
    model = AccessEvaluationReport
    serializer_class = ReportSerializer
    filterset_class = ReportFilter
    ordering_fields = ["created_at", "finished_at", "status"]
    ordering = ["-created_at"]
    search_fields = ["evaluation__application__reference"]

    def get_serializer_class(self):
        if self.action == "create":
            return RequestReportSerializer
        if self.action == "verify":
            return VerifyUploadSerializer
        return ReportSerializer

    @extend_schema(
        summary="Generate the signed report of an issued evaluation (regulators)",
        request=RequestReportSerializer,
        responses={202: ReportSerializer},
    )
    def create(self, request):
        serializer = RequestReportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        evaluation = (
            evaluations_for(request.user).filter(pk=serializer.validated_data["evaluation"]).first()
        )
        if evaluation is None:
            raise NotFound("No such evaluation.")
        report = services.request_report(evaluation, actor=request.user)
        report = self.get_queryset().get(pk=report.pk)
        return Response(
            ReportSerializer(report, context=self.get_serializer_context()).data,
            status=status.HTTP_202_ACCEPTED,
        )

    @extend_schema(
        summary="Download the report PDF (audited)",
        responses={(200, "application/pdf"): OpenApiTypes.BINARY},
    )
    @action(detail=True, methods=["get"], url_path="download", url_name="download")
    def download(self, request, pk=None):
        report = self.get_object()
        if not report.is_ready:
            raise IllegalTransition("The report is not ready yet.")
        services.record_download(report, actor=request.user)
        return FileResponse(
            report.pdf.open("rb"),
            as_attachment=True,
            filename=report.filename,
            content_type="application/pdf",
        )

    @extend_schema(
        summary="Verify a report PDF: authentic and unaltered, and which evaluation it is",
        request={"multipart/form-data": VerifyUploadSerializer},
        responses={200: VerdictSerializer},
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="verify",
        url_name="verify",
        parser_classes=[MultiPartParser, FormParser],
    )
    def verify(self, request):
        serializer = VerifyUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        uploaded = serializer.validated_data["file"]
        if uploaded.size > settings.REPORT_VERIFY_MAX_BYTES:
            limit = settings.REPORT_VERIFY_MAX_BYTES // (1024 * 1024)
            raise ValidationError({"file": f"The file is larger than {limit} MB."})
        verdict = services.verify_report(uploaded.read())
        data = verdict.as_dict()
        data["evaluation"] = data["evaluation"] or None
        return Response(VerdictSerializer(data).data)
