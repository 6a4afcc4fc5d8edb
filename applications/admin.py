"""Staff set-up: zones, cohorts, firms and their people. Cases change only
through the lifecycle services, so the admin shows them read-only."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.forms.models import model_to_dict
from guardian.admin import GuardedModelAdminMixin

from sandbox_portal.audit.services import record

from .forms import JSONObjectField
from .models import (
    Application,
    Cohort,
    Firm,
    FirmMembership,
    Node,
    NodeEndpointChange,
    Personnel,
    Project,
    Zone,
    ZoneRegistration,
)
from .services import node_changes


def _plain(instance):
    return {
        key: (value.pk if hasattr(value, "pk") else value)
        for key, value in model_to_dict(instance).items()
        if not isinstance(value, list)
    }


class AuditedAdmin(admin.ModelAdmin):
    """Staff edits in the admin go into the audit trail like any other change. JSON fields
    are bounded in size and nesting before they are decoded, as on every other form."""

    formfield_overrides = {models.JSONField: {"form_class": JSONObjectField}}

    def save_model(self, request, obj, form, change):
        before = _plain(type(obj).objects.get(pk=obj.pk)) if change and obj.pk else None
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            after = _plain(obj)
            if before:
                after = {k: v for k, v in after.items() if before.get(k) != v}
                before = {k: before.get(k) for k in after}
            record(
                actor=request.user,
                action=f"admin.{'change' if change else 'add'}.{obj._meta.model_name}",
                target=obj,
                before=before,
                after=after,
            )

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Zone)
class ZoneAdmin(AuditedAdmin):
    list_display = ("name", "kind")
    list_filter = ("kind",)
    search_fields = ("name",)


@admin.register(Cohort)
class CohortAdmin(AuditedAdmin):
    list_display = ("name", "intake_opens", "intake_closes", "capacity")


class MembershipInline(admin.TabularInline):
    model = FirmMembership
    fk_name = "firm"
    extra = 0
    fields = ("user", "role", "is_active")
    autocomplete_fields = ("user",)


@admin.register(Firm)
class FirmAdmin(AuditedAdmin):
    list_display = ("name", "legal_name", "registration_number", "contact_email")
    search_fields = ("name", "legal_name")
    inlines = [MembershipInline]


@admin.register(Project)
class ProjectAdmin(AuditedAdmin):
    list_display = ("name", "firm", "category")
    list_filter = ("category",)


class NodeAdminForm(forms.ModelForm):
    class Meta:
        model = Node
        fields = ("firm", "label", "endpoint_url", "location", "operator")

    def clean_endpoint_url(self):
        # Staff edits pass the same outgoing-request policy as the firm's own registrations.
        url = self.cleaned_data["endpoint_url"]
        try:
            node_changes.check_endpoint(url)
        except ValidationError as exc:
            raise ValidationError(exc.message_dict.get("endpoint_url", exc.messages)) from None
        return url


@admin.register(Node)
class NodeAdmin(AuditedAdmin):
    form = NodeAdminForm
    list_display = ("label", "firm", "endpoint_url", "location", "operator")
    list_filter = ("firm",)


@admin.register(NodeEndpointChange)
class NodeEndpointChangeAdmin(admin.ModelAdmin):
    """Read-only: requests are made by firms and decided by case officers in the portal."""

    list_display = ("node", "requested_url", "status", "requested_by", "decided_by")
    list_filter = ("status",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Personnel)
class PersonnelAdmin(AuditedAdmin):
    list_display = ("name", "firm", "role", "on_site")


@admin.register(ZoneRegistration)
class ZoneRegistrationAdmin(AuditedAdmin):
    list_display = ("firm", "zone", "registration_number", "registered_on")


@admin.register(Application)
class ApplicationAdmin(GuardedModelAdminMixin, admin.ModelAdmin):
    list_display = ("reference", "title", "firm", "state", "case_officer", "submitted_at")
    list_filter = ("state",)
    search_fields = ("reference", "title", "firm__name")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
