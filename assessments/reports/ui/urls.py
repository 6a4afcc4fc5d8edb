from django.urls import path

from . import views

urlpatterns = [
    path("evaluations/<int:pk>/reports/generate/", views.generate, name="report-generate"),
    path("reports/<int:pk>/", views.detail, name="report-detail"),
    path("reports/<int:pk>/live/", views.live, name="report-live"),
    path("reports/<int:pk>/download/", views.download, name="report-download"),
    path("verify", views.verify, name="report-verify"),
]
