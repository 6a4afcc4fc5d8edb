from django.urls import path

from . import views

urlpatterns = [
    path("cases/<int:pk>/test-runs/", views.case_runs, name="case-test-runs"),
    path("cases/<int:pk>/test-runs/new/", views.run_new, name="run-new"),
    path("test-runs/<int:pk>/", views.run_detail, name="run-detail"),
    path("test-runs/<int:pk>/live/", views.run_live, name="run-live"),
    path("test-runs/<int:pk>/cancel/", views.run_cancel, name="run-cancel"),
]
