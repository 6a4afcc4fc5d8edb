"""Staff edit index models here (layers, dimensions and indicators as inlines).

A locked index model, and everything in its tree, is read-only: the admin offers no
change, add or delete for it (and the models refuse such saves anyway). "Make a new
version" copies a model into an editable draft. Evaluations are read-only: only the
services write them. Every change made here is an audit event.
"""

from django.contrib import admin, messages
from django.db import transaction

from applications.admin import AuditedAdmin, _plain
from sandbox_portal.audit.services import record

from . import services
from .models import Dimension, Evaluation, IndexModel, IndexStatus, Indicator, Layer


def _index_of(obj):
    if obj is None:
        return None
    if isinstance(obj, IndexModel):
        return obj
    if isinstance(obj, Layer):
        return obj.index_model
    if isinstance(obj, Dimension):
        return obj.layer.index_model
    return obj.dimension.layer.index_model


def _locked(obj):
    index = _index_of(obj)
    return index is not None and index.is_locked


class LockAware:
    """Read-only once the index model the object belongs to is locked."""

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not _locked(obj)

    def has_add_permission(self, request, obj=None):
        if obj is not None and _locked(obj):
            return False
        if isinstance(self, admin.options.InlineModelAdmin):
            return super().has_add_permission(request, obj)
        return super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False


class TreeInline(LockAware, admin.TabularInline):
    extra = 0
    show_change_link = True

    def has_delete_permission(self, request, obj=None):
        # Rows of a draft may be removed; a locked tree keeps every row.
        return obj is not None and not _locked(obj)


class LayerInline(TreeInline):
    model = Layer
    fields = ("order", "code", "name", "weight")


class DimensionInline(TreeInline):
    model = Dimension
    fields = ("order", "code", "name", "weight")


class IndicatorInline(TreeInline):
    model = Indicator
    fields = (
        "order",
        "code",
        "name",
        "weight",
        "source_kind",
        "source_key",
        "rule",
        "operator",
        "threshold",
        "lower",
        "upper",
        "higher_is_better",
        "mandatory",
        "categories",
        "levels",
        "pfmi_principle",
    )


# Where a new or moved row may go: only into the tree of a draft index model.
_DRAFT_PARENTS = {
    "index_model": lambda: IndexModel.objects.filter(status=IndexStatus.DRAFT),
    "layer": lambda: Layer.objects.filter(index_model__status=IndexStatus.DRAFT),
    "dimension": lambda: Dimension.objects.filter(layer__index_model__status=IndexStatus.DRAFT),
}


class TreeAdmin(LockAware, AuditedAdmin):
    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name in _DRAFT_PARENTS:
            kwargs["queryset"] = _DRAFT_PARENTS[db_field.name]()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_formset(self, request, form, formset, change):
        with transaction.atomic():
            instances = formset.save(commit=False)
            for obj in formset.deleted_objects:
                record(
                    actor=request.user,
                    action=f"admin.delete.{obj._meta.model_name}",
                    target=obj,
                    before=_plain(obj),
                )
                obj.delete()
            for obj in instances:
                adding = obj.pk is None
                obj.save()
                record(
                    actor=request.user,
                    action=f"admin.{'add' if adding else 'change'}.{obj._meta.model_name}",
                    target=obj,
                    after=_plain(obj),
                )
            formset.save_m2m()


@admin.register(IndexModel)
class IndexModelAdmin(TreeAdmin):
    list_display = ("name", "version", "status", "locked_at", "created_at")
    list_filter = ("status", "name")
    readonly_fields = ("status", "locked_at", "created_at")
    inlines = [LayerInline]
    actions = ["make_new_version"]

    @admin.action(description="Make a new (editable) version of the selected index models")
    def make_new_version(self, request, queryset):
        for index in queryset:
            copy = services.new_version(index, actor=request.user)
            self.message_user(request, f"Created {copy}.", messages.SUCCESS)


@admin.register(Layer)
class LayerAdmin(TreeAdmin):
    list_display = ("name", "code", "index_model", "order", "weight")
    list_filter = ("index_model",)
    inlines = [DimensionInline]


@admin.register(Dimension)
class DimensionAdmin(TreeAdmin):
    list_display = ("name", "code", "layer", "order", "weight")
    list_filter = ("layer__index_model",)
    inlines = [IndicatorInline]


@admin.register(Indicator)
class IndicatorAdmin(TreeAdmin):
    list_display = ("code", "name", "dimension", "source_key", "rule", "weight", "mandatory")
    list_filter = ("dimension__layer__index_model", "source_kind", "rule", "mandatory")
    search_fields = ("code", "name", "source_key")


@admin.register(Evaluation)
class EvaluationAdmin(admin.ModelAdmin):
    list_display = (
        "application",
        "version",
        "status",
        "overall_score",
        "recommendation",
        "index_model",
        "issued_at",
    )
    list_filter = ("status", "recommendation")
    search_fields = ("application__reference", "sha256")
    list_select_related = ("application", "index_model")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
