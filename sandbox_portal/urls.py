from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from .health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("accounts/", include("sandbox_portal.accounts.urls")),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/", include("applications.api.urls")),
    path("", include("applications.ui.urls")),
    path("", include("assessments.ui.urls")),
    path("", include("assessments.evaluations.ui.urls")),
    path("", include("assessments.reports.ui.urls")),
    path("", include("assessments.traces.ui.urls")),
    path("", include("assessments.monitoring.ui.urls")),
]

handler404 = "sandbox_portal.api.not_found"
handler500 = "sandbox_portal.unavailable.server_error"
