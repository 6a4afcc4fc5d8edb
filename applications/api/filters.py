"""Filters of the API's collections. The case queue's filter is shared with the
queue page and lives in ``applications.filters``."""

import django_filters

from ..filters import WholeNumberFilter
from ..models import (
    Condition,
    ConditionStatus,
    Document,
    DocumentKind,
    FirmMembership,
    FirmReport,
    FirmReportKind,
    MembershipRole,
    Node,
    Personnel,
    Project,
    RequestForInformation,
    Zone,
    ZoneKind,
    ZoneRegistration,
)


class RfiFilter(django_filters.FilterSet):
    application = WholeNumberFilter(field_name="application_id")
    open = django_filters.BooleanFilter(
        field_name="answered_at", lookup_expr="isnull", label="Open (not yet answered)"
    )

    class Meta:
        model = RequestForInformation
        fields = ["application", "open"]


class DocumentFilter(django_filters.FilterSet):
    application = WholeNumberFilter(field_name="application_id")
    kind = django_filters.ChoiceFilter(choices=DocumentKind.choices)
    sha256 = django_filters.CharFilter()

    class Meta:
        model = Document
        fields = ["application", "kind", "sha256"]


class ConditionFilter(django_filters.FilterSet):
    application = WholeNumberFilter(field_name="application_id")
    status = django_filters.ChoiceFilter(choices=ConditionStatus.choices)
    due_before = django_filters.DateFilter(field_name="due_date", lookup_expr="lte")
    due_after = django_filters.DateFilter(field_name="due_date", lookup_expr="gte")

    class Meta:
        model = Condition
        fields = ["application", "status", "due_before", "due_after"]


class FirmReportFilter(django_filters.FilterSet):
    application = WholeNumberFilter(field_name="application_id")
    kind = django_filters.ChoiceFilter(choices=FirmReportKind.choices)

    class Meta:
        model = FirmReport
        fields = ["application", "kind"]


def _by_firm(model_class, *extra):
    """A filter set with ``firm`` (and ``extra`` model fields) for a firm-owned model."""
    meta = type("Meta", (), {"model": model_class, "fields": ["firm", *extra]})
    return type(
        f"{model_class.__name__}Filter",
        (django_filters.FilterSet,),
        {"firm": WholeNumberFilter(field_name="firm_id"), "Meta": meta},
    )


ProjectFilter = _by_firm(Project, "category")
NodeFilter = _by_firm(Node)
PersonnelFilter = _by_firm(Personnel, "on_site")
ZoneRegistrationFilter = _by_firm(ZoneRegistration, "zone")


class MembershipFilter(django_filters.FilterSet):
    firm = WholeNumberFilter(field_name="firm_id")
    role = django_filters.ChoiceFilter(choices=MembershipRole.choices)

    class Meta:
        model = FirmMembership
        fields = ["firm", "role", "is_active"]


class ZoneFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=ZoneKind.choices)

    class Meta:
        model = Zone
        fields = ["kind"]
