"""Staff set-up: zones, cohorts, firms and their people. Cases change only
through the lifecycle services, so the admin shows them read-only."""

from django.contrib import admin
from guardian.admin import GuardedModelAdminMixin

from .models import (
    Application,
    Cohort,
    Firm,
    FirmMembership,
    Node,
    Personnel,
    Project,
    Zone,
    ZoneRegistration,
)


@admin.register(Zone)
class ZoneAdmin(admin.ModelAdmin):
    list_display = ("name", "kind")
    list_filter = ("kind",)
    search_fields = ("name",)


@admin.register(Cohort)
class CohortAdmin(admin.ModelAdmin):
    list_display = ("name", "intake_opens", "intake_closes", "capacity")


class MembershipInline(admin.TabularInline):
    model = FirmMembership
    fk_name = "firm"
    extra = 0
    fields = ("user", "role", "is_active")
    autocomplete_fields = ("user",)


@admin.register(Firm)
class FirmAdmin(admin.ModelAdmin):
    list_display = ("name", "legal_name", "registration_number", "contact_email")
    search_fields = ("name", "legal_name")
    inlines = [MembershipInline]


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ("name", "firm", "category")
    list_filter = ("category",)


@admin.register(Node)
class NodeAdmin(admin.ModelAdmin):
    list_display = ("label", "firm", "endpoint_url", "location", "operator")
    list_filter = ("firm",)


@admin.register(Personnel)
class PersonnelAdmin(admin.ModelAdmin):
    list_display = ("name", "firm", "role", "on_site")


@admin.register(ZoneRegistration)
class ZoneRegistrationAdmin(admin.ModelAdmin):
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
