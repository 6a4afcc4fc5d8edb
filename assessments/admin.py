"""Test runs in the Django admin: read-only, since only the services and the worker
write them and nothing is ever deleted."""

from django.contrib import admin

from .models import SuiteRun, TestRun


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SuiteRunInline(admin.TabularInline):
    model = SuiteRun
    fields = ["suite", "status", "passed", "error", "started_at", "finished_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(TestRun)
class TestRunAdmin(ReadOnlyAdmin):
    list_display = ["pk", "application", "status", "progress", "requested_by", "created_at"]
    list_filter = ["status"]
    search_fields = ["application__reference", "celery_task_id"]
    list_select_related = ["application", "requested_by"]
    inlines = [SuiteRunInline]


@admin.register(SuiteRun)
class SuiteRunAdmin(ReadOnlyAdmin):
    list_display = ["pk", "test_run", "suite", "status", "passed", "finished_at"]
    list_filter = ["suite", "status", "passed"]
    list_select_related = ["test_run__application"]
