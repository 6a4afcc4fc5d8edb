from django.contrib import admin

from .models import TraceUpload


@admin.register(TraceUpload)
class TraceUploadAdmin(admin.ModelAdmin):
    list_display = ["pk", "application", "kind", "original_name", "status", "uploaded_at"]
    list_filter = ["kind", "status"]
    search_fields = ["application__reference", "sha256", "original_name"]
    readonly_fields = [f.name for f in TraceUpload._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
