"""The incident collection: list and read a case's monitoring incidents, acknowledge one.

Incidents come from ``monitoring.queries.incidents_for`` (an incident outside the caller's
scope is not found); acknowledging goes through ``monitoring.services``.
"""

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.response import Response

from applications.api.common import ScopedViewSet
from applications.filters import WholeNumberFilter

from .. import services
from ..models import Incident, IncidentStatus, Rule
from ..queries import incidents_for
from .serializers import IncidentSerializer


class IncidentFilter(django_filters.FilterSet):
    application = WholeNumberFilter(field_name="application_id")
    status = django_filters.ChoiceFilter(choices=IncidentStatus.choices)
    rule = django_filters.ChoiceFilter(choices=Rule.choices)

    class Meta:
        model = Incident
        fields = ["application", "status", "rule"]


@extend_schema_view(
    list=extend_schema(summary="Monitoring incidents of the cases the caller may see"),
    retrieve=extend_schema(summary="A monitoring incident"),
)
class IncidentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Incidents raised by the runtime monitoring of admitted cases. Never deleted."""

    scope = staticmethod(incidents_for)
    model = Incident
    serializer_class = IncidentSerializer
    filterset_class = IncidentFilter
    ordering_fields = ["opened_at", "cleared_at", "status"]
    ordering = ["-opened_at"]
    search_fields = ["application__reference"]

    @extend_schema(
        summary="Acknowledge an incident (regulators)", request=None, responses=IncidentSerializer
    )
    @action(detail=True, methods=["post"], url_path="acknowledge", url_name="acknowledge")
    def acknowledge(self, request, pk=None):
        incident = services.acknowledge(self.get_object(), actor=request.user)
        incident = incidents_for(request.user).get(pk=incident.pk)
        return Response(IncidentSerializer(incident, context=self.get_serializer_context()).data)
