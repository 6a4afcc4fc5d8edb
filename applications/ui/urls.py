from django.urls import path

from . import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("cases/<int:pk>/", views.case_detail, name="case-detail"),
]
