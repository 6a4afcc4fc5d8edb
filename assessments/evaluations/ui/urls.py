from django.urls import path

from . import views

urlpatterns = [
    path("cases/<int:pk>/evaluations/new/", views.evaluation_new, name="evaluation-new"),
    path("evaluations/<int:pk>/", views.evaluation_detail, name="evaluation-detail"),
    path("evaluations/<int:pk>/issue/", views.evaluation_issue, name="evaluation-issue"),
]
