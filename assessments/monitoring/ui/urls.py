from django.urls import path

from . import views

urlpatterns = [
    path("monitoring/", views.overview, name="monitoring-overview"),
    path("cases/<int:pk>/monitoring/", views.case_monitoring, name="case-monitoring"),
    path(
        "cases/<int:pk>/monitoring/live/", views.case_monitoring_live, name="case-monitoring-live"
    ),
    path(
        "cases/<int:pk>/monitoring/rules/",
        views.case_monitoring_rules,
        name="case-monitoring-rules",
    ),
    path(
        "cases/<int:pk>/monitoring/summary/",
        views.case_monitoring_summary,
        name="case-monitoring-summary",
    ),
    path(
        "incidents/<int:pk>/acknowledge/",
        views.incident_acknowledge,
        name="incident-acknowledge",
    ),
]
