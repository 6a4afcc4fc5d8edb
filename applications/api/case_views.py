"""The case's own objects: requests for information, documents, conditions and
the firm's reports. Each collection is scoped through ``queries.py``; changes
go through the services."""

import json

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from .. import queries
from ..models import Condition, Document, FirmReport, RequestForInformation
from ..services import content as content_services
from ..services import lifecycle
from .common import ScopedViewSet
from .filters import ConditionFilter, DocumentFilter, FirmReportFilter, RfiFilter
from .serializers import (
    ConditionSerializer,
    ConditionStatusSerializer,
    DocumentSerializer,
    DocumentUploadSerializer,
    FirmReportSerializer,
    RfiSerializer,
)


class ReadOnly(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    pass


class RfiViewSet(ReadOnly):
    """Requests for information. The firm answers through the case's
    ``answer_information`` action."""

    scope = staticmethod(queries.rfis_for)
    model = RequestForInformation
    serializer_class = RfiSerializer
    filterset_class = RfiFilter
    search_fields = ["question", "answer", "application__reference"]
    ordering_fields = ["raised_at", "due_date", "answered_at"]

    def refine(self, queryset):
        return queryset.select_related("application", "raised_by", "answered_by")


class AnyFileRenderer(BaseRenderer):
    """Lets a download answer whatever type the client accepts; errors stay JSON."""

    media_type = "*/*"
    format = "file"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        # Only errors reach a renderer (a file is streamed): label them as the JSON they are.
        response = (renderer_context or {}).get("response")
        if response is not None:
            response["Content-Type"] = "application/json"
        return json.dumps(data).encode()


class DocumentViewSet(mixins.CreateModelMixin, ReadOnly):
    """Documents of a case, stored under their SHA-256. Every download is audited."""

    scope = staticmethod(queries.documents_for)
    model = Document
    filterset_class = DocumentFilter
    search_fields = ["original_name", "sha256", "application__reference"]
    ordering_fields = ["uploaded_at", "kind", "size"]

    def get_serializer_class(self):
        return DocumentUploadSerializer if self.action == "create" else DocumentSerializer

    parser_classes = [MultiPartParser, FormParser]

    def refine(self, queryset):
        return queryset.select_related("application", "uploaded_by")

    @extend_schema(
        summary="Upload a document to a case",
        request={"multipart/form-data": DocumentUploadSerializer},
        responses={201: DocumentSerializer},
    )
    def create(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        document = content_services.upload_document(
            data["application"], actor=request.user, kind=data["kind"], uploaded=data["file"]
        )
        return Response(DocumentSerializer(document).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Download a document (audited)",
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
    )
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, AnyFileRenderer])
    def download(self, request, pk=None):
        document = self.get_object()
        try:
            handle = document.file.open("rb")
        except FileNotFoundError:
            raise NotFound("The stored file is missing.") from None
        content_services.record_download(document, actor=request.user)
        return FileResponse(
            handle,
            as_attachment=True,
            filename=document.original_name,
            content_type=document.content_type,
        )


class ConditionViewSet(ReadOnly):
    """Conditions of admission, each with a due date and a status."""

    scope = staticmethod(queries.conditions_for)
    model = Condition
    serializer_class = ConditionSerializer
    filterset_class = ConditionFilter
    search_fields = ["text", "application__reference"]
    ordering_fields = ["due_date", "status"]

    def refine(self, queryset):
        return queryset.select_related("application", "status_set_by")

    @extend_schema(
        summary="Set a condition's status (regulators)",
        request=ConditionStatusSerializer,
        responses={200: ConditionSerializer, 403: OpenApiResponse(description="Not a regulator")},
    )
    @action(detail=True, methods=["post"], url_path="status", url_name="status")
    def set_status(self, request, pk=None):
        condition = self.get_object()
        serializer = ConditionStatusSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        lifecycle.set_condition_status(condition, actor=request.user, **serializer.validated_data)
        return Response(ConditionSerializer(self.get_object()).data)


class FirmReportViewSet(ReadOnly):
    """Periodic, incident and final reports from the firm. The firm files them
    through the case's ``submit_report`` action."""

    scope = staticmethod(queries.firm_reports_for)
    model = FirmReport
    serializer_class = FirmReportSerializer
    filterset_class = FirmReportFilter
    search_fields = ["title", "body", "application__reference"]
    ordering_fields = ["submitted_at", "kind"]

    def refine(self, queryset):
        return queryset.select_related("application", "submitted_by")
