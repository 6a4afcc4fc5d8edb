"""The uploaded-trace collection: list and read uploads, and upload one (multipart).

Uploads come from ``assessments.traces.queries.trace_uploads_for`` (an upload or case
outside the caller's scope is not found); uploading goes through
``assessments.traces.services.upload_trace``.
"""

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.exceptions import NotFound
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from applications import queries as case_queries
from applications.api.common import ScopedViewSet
from applications.filters import WholeNumberFilter

from .. import services
from ..models import CheckStatus, TraceKind, TraceUpload
from ..queries import trace_uploads_for
from .serializers import TraceUploadCreateSerializer, TraceUploadSerializer


class TraceUploadFilter(django_filters.FilterSet):
    application = WholeNumberFilter(field_name="application_id")
    kind = django_filters.ChoiceFilter(choices=TraceKind.choices)
    status = django_filters.ChoiceFilter(choices=CheckStatus.choices)

    class Meta:
        model = TraceUpload
        fields = ["application", "kind", "status"]


@extend_schema_view(
    list=extend_schema(summary="Uploaded consensus traces and ledger histories the caller may see"),
    retrieve=extend_schema(summary="An uploaded trace: its check, test run and result"),
)
class TraceUploadViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Consensus traces and ledger histories uploaded to cases. Nothing is ever deleted."""

    scope = staticmethod(trace_uploads_for)
    model = TraceUpload
    filterset_class = TraceUploadFilter
    ordering_fields = ["uploaded_at", "size", "status"]
    ordering = ["-uploaded_at"]
    search_fields = ["application__reference", "sha256", "original_name"]
    parser_classes = [MultiPartParser, FormParser]

    def get_serializer_class(self):
        if self.action == "create":
            return TraceUploadCreateSerializer
        return TraceUploadSerializer

    def refine(self, queryset):
        return queryset.prefetch_related("test_run__suite_runs")

    @extend_schema(
        summary="Upload a consensus trace or a ledger history (the case's firm, regulators)",
        request={"multipart/form-data": TraceUploadCreateSerializer},
        responses={201: TraceUploadSerializer},
    )
    def create(self, request):
        serializer = TraceUploadCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        app = case_queries.applications_for(request.user).filter(pk=data["application"]).first()
        if app is None:
            raise NotFound("No such case.")
        upload = services.upload_trace(
            app, actor=request.user, kind=data["kind"], uploaded=data["file"]
        )
        upload = self.refine(trace_uploads_for(request.user)).get(pk=upload.pk)
        return Response(TraceUploadSerializer(upload).data, status=status.HTTP_201_CREATED)
