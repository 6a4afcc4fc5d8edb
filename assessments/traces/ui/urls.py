from django.urls import path

from . import views

urlpatterns = [
    path("cases/<int:pk>/traces/", views.case_traces, name="case-traces"),
    path("traces/<int:pk>/", views.trace_detail, name="trace-detail"),
]
