from django.urls import include, path

from . import node_change_views, views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("queue/", views.queue, name="queue"),
    path("cases/", views.case_list, name="case-list"),
    path("cases/<int:pk>/", views.case_detail, name="case-detail"),
    path("cases/<int:pk>/tab/<slug:name>/", views.case_tab, name="case-tab"),
    path("cases/<int:pk>/actions/<slug:name>/", views.case_action, name="case-action"),
    path("conditions/<int:pk>/status/", views.condition_status, name="condition-status"),
    path("zones/", views.zones, name="zones"),
    path(
        "node-changes/<int:pk>/approve/",
        node_change_views.decide,
        {"decision": "approve"},
        name="node-change-approve",
    ),
    path(
        "node-changes/<int:pk>/refuse/",
        node_change_views.decide,
        {"decision": "refuse"},
        name="node-change-refuse",
    ),
    path("", include("applications.ui.firm_urls")),
]
