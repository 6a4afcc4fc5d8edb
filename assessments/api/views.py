"""The test-run collection: list, read, start and cancel runs.

Runs come from ``assessments.queries.test_runs_for`` (a run outside the caller's scope
is not found); starting and cancelling go through ``assessments.services``.
"""

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from applications import queries as case_queries
from applications.api.common import ScopedViewSet
from applications.filters import WholeNumberFilter
from assessments.monitoring import summary
from assessments.monitoring.api.serializers import MonitoringSummaryRequestSerializer
from assessments.monitoring.forms import SummaryForm

from .. import services
from ..models import RunStatus, TestRun
from ..queries import test_runs_for
from .serializers import StartTestRunSerializer, TestRunListSerializer, TestRunSerializer


class TestRunFilter(django_filters.FilterSet):
    application = WholeNumberFilter(field_name="application_id")
    status = django_filters.ChoiceFilter(choices=RunStatus.choices)

    class Meta:
        model = TestRun
        fields = ["application", "status"]


@extend_schema_view(
    list=extend_schema(summary="The test runs of the cases the caller may see"),
    retrieve=extend_schema(summary="A test run: status, progress 0-100, log tail and results"),
)
class TestRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Technical test runs. Nothing is ever deleted."""

    scope = staticmethod(test_runs_for)
    model = TestRun
    filterset_class = TestRunFilter
    ordering_fields = ["created_at", "finished_at", "status"]
    ordering = ["-created_at"]
    search_fields = ["application__reference"]

    def get_serializer_class(self):
        if self.action == "list":
            return TestRunListSerializer
        if self.action == "create":
            return StartTestRunSerializer
        return TestRunSerializer

    def refine(self, queryset):
        if self.action == "list":
            return queryset
        return queryset.prefetch_related("suite_runs")

    def _detail(self, pk):
        run = self.refine(test_runs_for(self.request.user)).get(pk=pk)
        return TestRunSerializer(run, context=self.get_serializer_context()).data

    @extend_schema(
        summary="Start a test run (regulators)",
        request=StartTestRunSerializer,
        responses={201: TestRunSerializer},
    )
    def create(self, request):
        serializer = StartTestRunSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        app = case_queries.applications_for(request.user).filter(pk=data["application"]).first()
        if app is None:
            raise NotFound("No such case.")
        run = services.start_run(
            app,
            actor=request.user,
            suites=data["suites"],
            parameters=data["parameters"],
            node_ids=data["nodes"],
        )
        return Response(self._detail(run.pk), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Cancel a test run (regulators)", request=None, responses=TestRunSerializer
    )
    @action(detail=True, methods=["post"], url_path="cancel", url_name="cancel")
    def cancel(self, request, pk=None):
        run = self.get_object()
        services.cancel_run(run, actor=request.user)
        return Response(self._detail(run.pk))

    @extend_schema(
        summary="Record a case's monitoring history as a finished test run (regulators)",
        description=(
            "The period's uptime, incidents by rule and median time to acknowledge, as a "
            "finished run with one `monitoring` suite that an evaluation can cite."
        ),
        request=MonitoringSummaryRequestSerializer,
        responses={201: TestRunSerializer},
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="monitoring-summary",
        url_name="monitoring-summary",
    )
    def monitoring_summary(self, request):
        serializer = MonitoringSummaryRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        app = case_queries.applications_for(request.user).filter(pk=data["application"]).first()
        if app is None:
            raise NotFound("No such case.")
        form = SummaryForm(data={"start": data["start"], "end": data["end"]})
        if not form.is_valid():
            raise ValidationError(form.errors)
        start, end = form.period()
        run = summary.record_summary(app, actor=request.user, start=start, end=end)
        return Response(self._detail(run.pk), status=status.HTTP_201_CREATED)
