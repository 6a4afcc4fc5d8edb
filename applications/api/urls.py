"""The REST API, mounted at /api/v1/ (DESIGN.md section 8)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from assessments.api.views import TestRunViewSet
from assessments.evaluations.api.views import EvaluationViewSet
from assessments.monitoring.api.views import IncidentViewSet
from assessments.reports.api.views import ReportViewSet
from assessments.traces.api.views import TraceUploadViewSet

from . import case_views, firm_views, node_changes, views

router = SimpleRouter()
router.register("applications", views.ApplicationViewSet, basename="application")
router.register("rfis", case_views.RfiViewSet, basename="rfi")
router.register("documents", case_views.DocumentViewSet, basename="document")
router.register("conditions", case_views.ConditionViewSet, basename="condition")
router.register("firm-reports", case_views.FirmReportViewSet, basename="firm-report")
router.register("projects", firm_views.ProjectViewSet, basename="project")
router.register("nodes", firm_views.NodeViewSet, basename="node")
router.register("node-changes", node_changes.NodeEndpointChangeViewSet, basename="node-change")
router.register("personnel", firm_views.PersonnelViewSet, basename="personnel")
router.register(
    "zone-registrations", firm_views.ZoneRegistrationViewSet, basename="zone-registration"
)
router.register("zones", firm_views.ZoneViewSet, basename="zone")
router.register("firms", firm_views.FirmViewSet, basename="firm")
router.register("members", firm_views.MemberViewSet, basename="member")
router.register("test-runs", TestRunViewSet, basename="test-run")
router.register("evaluations", EvaluationViewSet, basename="evaluation")
router.register("reports", ReportViewSet, basename="report")
router.register("traces", TraceUploadViewSet, basename="trace")
router.register("monitoring/incidents", IncidentViewSet, basename="incident")

app_name = "api"
urlpatterns = [
    path("auth/token/", views.TokenView.as_view(), name="token"),
    *router.urls,
]
