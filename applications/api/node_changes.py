"""Endpoint changes on nodes in review: the firm's requests and the case officer's
decisions (``/api/v1/node-changes/``). A firm asks for one by changing a node's
``endpoint_url`` (``PATCH /api/v1/nodes/{id}/`` answers 202 with the request)."""

import django_filters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from .. import queries
from ..filters import WholeNumberFilter
from ..models import EndpointChangeStatus, NodeEndpointChange
from ..services import node_changes
from .common import ScopedViewSet
from .serializers import PersonSerializer, RejectUnknownFields


class NodeEndpointChangeSerializer(serializers.ModelSerializer):
    node_label = serializers.CharField(source="node.label", read_only=True)
    firm = serializers.IntegerField(source="node.firm_id", read_only=True)
    requested_by = PersonSerializer(read_only=True)
    decided_by = PersonSerializer(read_only=True, allow_null=True)

    class Meta:
        model = NodeEndpointChange
        fields = [
            "id",
            "node",
            "node_label",
            "firm",
            "old_url",
            "requested_url",
            "reason",
            "status",
            "requested_by",
            "requested_at",
            "decided_by",
            "decided_at",
            "decision_note",
        ]
        read_only_fields = fields


class EndpointChangeDecisionSerializer(RejectUnknownFields, serializers.Serializer):
    note = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text="A note to the firm; needed to refuse.",
    )


class NodeEndpointChangeFilter(django_filters.FilterSet):
    node = WholeNumberFilter(field_name="node_id")
    status = django_filters.ChoiceFilter(choices=EndpointChangeStatus.choices)

    class Meta:
        model = NodeEndpointChange
        fields = ["node", "status"]


class NodeEndpointChangeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Endpoint change requests: a firm's users see their firm's, regulators all of
    them, auditors none. A case officer approves or refuses a pending one."""

    scope = staticmethod(queries.node_changes_for)
    model = NodeEndpointChange
    serializer_class = NodeEndpointChangeSerializer
    filterset_class = NodeEndpointChangeFilter
    search_fields = ["node__label", "requested_url", "old_url"]
    ordering_fields = ["requested_at", "decided_at", "status"]

    def refine(self, queryset):
        return queryset.select_related("node", "requested_by", "decided_by")

    def _decide(self, request, decide):
        change = self.get_object()
        serializer = EndpointChangeDecisionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        change = decide(change, actor=request.user, note=serializer.validated_data.get("note", ""))
        return Response(NodeEndpointChangeSerializer(self.get_object()).data)

    @extend_schema(
        summary="Approve a pending endpoint change (case officers)",
        description="The endpoint is checked again; one the portal may not contact is "
        "refused instead, with the reason in ``decision_note``.",
        request=EndpointChangeDecisionSerializer,
        responses={
            200: NodeEndpointChangeSerializer,
            403: OpenApiResponse(description="Not a case officer"),
            409: OpenApiResponse(description="Already decided or withdrawn"),
        },
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._decide(request, node_changes.approve_change)

    @extend_schema(
        summary="Refuse a pending endpoint change (case officers), saying why",
        request=EndpointChangeDecisionSerializer,
        responses={
            200: NodeEndpointChangeSerializer,
            403: OpenApiResponse(description="Not a case officer"),
            409: OpenApiResponse(description="Already decided or withdrawn"),
        },
    )
    @action(detail=True, methods=["post"])
    def refuse(self, request, pk=None):
        return self._decide(request, node_changes.refuse_change)
