from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db import transaction

from sandbox_portal.audit.services import record

from .models import User

AUDITED_FIELDS = (
    "username",
    "email",
    "first_name",
    "last_name",
    "role",
    "is_active",
    "is_staff",
    "is_superuser",
)


def _snapshot(user):
    return {name: getattr(user, name) for name in AUDITED_FIELDS}


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "email", "first_name", "last_name", "role", "is_active")
    list_filter = ("role", "is_active", "is_staff")
    fieldsets = BaseUserAdmin.fieldsets + (("Portal role", {"fields": ("role",)}),)
    add_fieldsets = BaseUserAdmin.add_fieldsets + (("Portal role", {"fields": ("role",)}),)

    def save_model(self, request, obj, form, change):
        """Account changes made by staff are audit events (passwords never recorded)."""
        before = _snapshot(User.objects.get(pk=obj.pk)) if change else None
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            after = _snapshot(obj)
            if before:
                after = {k: v for k, v in after.items() if before[k] != v}
                before = {k: before[k] for k in after}
            record(
                actor=request.user,
                action="admin.change.user" if change else "admin.add.user",
                target=obj,
                before=before,
                after=after,
            )

    def has_delete_permission(self, request, obj=None):
        return False
