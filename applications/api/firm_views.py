"""Firms and the physical tier: projects, the server station (nodes),
personnel on site, zone registrations, zones and the firm's members."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from .. import queries
from ..models import (
    EndpointChangeStatus,
    Firm,
    FirmMembership,
    Node,
    Personnel,
    Project,
    Zone,
    ZoneRegistration,
)
from ..services import firms as firm_services
from .common import ScopedViewSet
from .filters import (
    MembershipFilter,
    NodeFilter,
    PersonnelFilter,
    ProjectFilter,
    ZoneFilter,
    ZoneRegistrationFilter,
)
from .node_changes import NodeEndpointChangeSerializer
from .serializers import (
    FirmSerializer,
    InviteMemberSerializer,
    MembershipSerializer,
    NodeSerializer,
    PersonnelSerializer,
    ProjectSerializer,
    ZoneRegistrationSerializer,
    ZoneSerializer,
)


def firm_for_new_record(user, firm):
    """The firm a new record belongs to: the one given, or the caller's only firm."""
    if firm is not None:
        return firm
    if user.is_firm_user:
        own = list(queries.firms_for(user)[:2])
        if len(own) == 1:
            return own[0]
    raise ValidationError({"firm": ["Choose the firm."]})


class ReadOnly(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    pass


class FirmOwnedViewSet(ReadOnly):
    """A firm-owned record: listed where the caller sees the firm, created and
    edited through the firm service named by ``save`` (which decides who may)."""

    save = None
    instance_kwarg = None

    def refine(self, queryset):
        return queryset.select_related("firm")

    def create(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        firm = firm_for_new_record(request.user, serializer.validated_data.get("firm"))
        saved = self.save(firm, actor=request.user, fields=serializer.service_fields())
        return Response(self.get_serializer(saved).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        instance = self.get_object()
        serializer = self.get_serializer(instance, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        saved = self.save(
            instance.firm,
            actor=request.user,
            fields=serializer.service_fields(),
            **{self.instance_kwarg: instance},
        )
        return Response(self.get_serializer(saved).data)


class ProjectViewSet(FirmOwnedViewSet):
    """The firm's projects; an application is opened for one of them."""

    scope = staticmethod(queries.projects_for)
    model = Project
    serializer_class = ProjectSerializer
    filterset_class = ProjectFilter
    search_fields = ["name", "description"]
    ordering_fields = ["name", "created_at"]
    save = staticmethod(firm_services.save_project)
    instance_kwarg = "project"


class NodeViewSet(FirmOwnedViewSet):
    """The server station: only endpoints registered here are ever tested."""

    scope = staticmethod(queries.nodes_for)
    model = Node
    serializer_class = NodeSerializer
    filterset_class = NodeFilter
    search_fields = ["label", "endpoint_url", "location", "operator"]
    ordering_fields = ["label", "created_at"]
    save = staticmethod(firm_services.save_node)
    instance_kwarg = "node"

    @extend_schema(
        responses={
            200: NodeSerializer,
            202: OpenApiResponse(
                NodeEndpointChangeSerializer,
                description="A case in review uses the node: the new endpoint waits for the "
                "case officer's approval and the node keeps its address until then.",
            ),
        }
    )
    def partial_update(self, request, pk=None):
        node = self.get_object()
        serializer = self.get_serializer(node, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        fields = serializer.service_fields()
        saved = firm_services.save_node(
            node.firm,
            actor=request.user,
            fields=fields,
            node=node,
            reason=serializer.validated_data.get("change_reason", ""),
        )
        wanted = fields.get("endpoint_url")
        if wanted is not None and saved.endpoint_url != wanted:
            change = (
                queries.node_changes_for(request.user)
                .filter(node=saved, status=EndpointChangeStatus.PENDING)
                .select_related("node", "requested_by", "decided_by")
                .first()
            )
            if change is not None:
                return Response(
                    NodeEndpointChangeSerializer(change).data, status=status.HTTP_202_ACCEPTED
                )
        return Response(self.get_serializer(saved).data)


class PersonnelViewSet(FirmOwnedViewSet):
    """Personnel stationed in the zone."""

    scope = staticmethod(queries.personnel_for)
    model = Personnel
    serializer_class = PersonnelSerializer
    filterset_class = PersonnelFilter
    search_fields = ["name", "role"]
    ordering_fields = ["name"]
    save = staticmethod(firm_services.save_personnel)
    instance_kwarg = "person"


class ZoneRegistrationViewSet(FirmOwnedViewSet):
    """The firm's registrations in zones (firm admins change them)."""

    scope = staticmethod(queries.zone_registrations_for)
    model = ZoneRegistration
    serializer_class = ZoneRegistrationSerializer
    filterset_class = ZoneRegistrationFilter
    search_fields = ["registration_number", "registered_address"]
    ordering_fields = ["registered_on"]
    save = staticmethod(firm_services.save_zone_registration)
    instance_kwarg = "registration"

    def refine(self, queryset):
        return queryset.select_related("firm", "zone")


class ZoneViewSet(ReadOnly):
    """Zones and their policies."""

    scope = staticmethod(queries.zones_for)
    model = Zone
    serializer_class = ZoneSerializer
    filterset_class = ZoneFilter
    search_fields = ["name"]
    ordering_fields = ["name"]


class FirmViewSet(ReadOnly):
    """Firms the caller may see."""

    scope = staticmethod(queries.firms_for)
    model = Firm
    serializer_class = FirmSerializer
    search_fields = ["name", "legal_name", "registration_number"]
    ordering_fields = ["name", "created_at"]


class MemberViewSet(ReadOnly):
    """The firm's members. Firm admins invite and remove them; removal ends the
    membership and keeps the account and its history."""

    scope = staticmethod(queries.memberships_for)
    model = FirmMembership
    filterset_class = MembershipFilter
    search_fields = ["user__username", "user__email", "user__first_name", "user__last_name"]
    ordering_fields = ["created_at", "role"]

    def get_serializer_class(self):
        return InviteMemberSerializer if self.action == "create" else MembershipSerializer

    @extend_schema(
        summary="Invite a member (firm admins)",
        request=InviteMemberSerializer,
        responses={201: MembershipSerializer},
    )
    def create(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        firm = firm_for_new_record(request.user, data.pop("firm", None))
        membership = firm_services.invite_member(firm, actor=request.user, **data)
        return Response(MembershipSerializer(membership).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Remove a member (firm admins)", request=None)
    @action(detail=True, methods=["post"], serializer_class=MembershipSerializer)
    def remove(self, request, pk=None):
        membership = firm_services.remove_member(self.get_object(), actor=request.user)
        return Response(MembershipSerializer(membership).data)
