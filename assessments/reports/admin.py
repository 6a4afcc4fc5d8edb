from django.contrib import admin

from .models import AccessEvaluationReport


@admin.register(AccessEvaluationReport)
class AccessEvaluationReportAdmin(admin.ModelAdmin):
    """Read-only: reports are made by the reports worker and never edited or deleted."""

    list_display = ["__str__", "evaluation", "status", "progress", "created_at", "finished_at"]
    list_filter = ["status"]
    search_fields = ["evaluation__application__reference", "json_sha256", "pdf_sha256"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
