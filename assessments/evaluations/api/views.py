"""The evaluation collection: list, read, create (regulators) and issue (regulators).

Evaluations come from ``evaluations.queries.evaluations_for`` (outside the caller's scope:
404); creating and issuing go through ``evaluations.services``.
"""

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from applications import queries as case_queries
from applications.api.common import ScopedViewSet
from applications.filters import WholeNumberFilter

from .. import services
from ..models import Evaluation, EvaluationStatus
from ..queries import evaluations_for, index_models_for
from .serializers import CreateEvaluationSerializer, EvaluationListSerializer, EvaluationSerializer


class EvaluationFilter(django_filters.FilterSet):
    application = WholeNumberFilter(field_name="application_id")
    status = django_filters.ChoiceFilter(choices=EvaluationStatus.choices)

    class Meta:
        model = Evaluation
        fields = ["application", "status"]


@extend_schema_view(
    list=extend_schema(summary="The evaluations of the cases the caller may see"),
    retrieve=extend_schema(summary="An evaluation: inputs, indicator scores, recommendation"),
)
class EvaluationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Access evaluations. Issued ones never change; nothing is ever deleted."""

    scope = staticmethod(evaluations_for)
    model = Evaluation
    filterset_class = EvaluationFilter
    ordering_fields = ["created_at", "version", "overall_score"]
    ordering = ["-created_at"]
    search_fields = ["application__reference"]

    def get_serializer_class(self):
        if self.action == "list":
            return EvaluationListSerializer
        if self.action == "create":
            return CreateEvaluationSerializer
        return EvaluationSerializer

    def refine(self, queryset):
        return queryset.prefetch_related("test_runs")

    def _detail(self, pk):
        evaluation = self.refine(evaluations_for(self.request.user)).get(pk=pk)
        return EvaluationSerializer(evaluation, context=self.get_serializer_context()).data

    @extend_schema(
        summary="Evaluate a case now (regulators)",
        request=CreateEvaluationSerializer,
        responses={201: EvaluationSerializer},
    )
    def create(self, request):
        serializer = CreateEvaluationSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        app = case_queries.applications_for(request.user).filter(pk=data["application"]).first()
        if app is None:
            raise NotFound("No such case.")
        index_model = None
        if data["index_model"] is not None:
            index_model = index_models_for(request.user).filter(pk=data["index_model"]).first()
            if index_model is None:
                raise NotFound("No such index model.")
        evaluation = services.create_evaluation(
            app,
            actor=request.user,
            index_model=index_model,
            test_run_ids=data["test_runs"],
        )
        return Response(self._detail(evaluation.pk), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Issue an evaluation (regulators)", request=None, responses=EvaluationSerializer
    )
    @action(detail=True, methods=["post"], url_path="issue", url_name="issue")
    def issue(self, request, pk=None):
        evaluation = self.get_object()
        services.issue_evaluation(evaluation, actor=request.user)
        return Response(self._detail(evaluation.pk))
