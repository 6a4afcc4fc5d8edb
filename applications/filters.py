"""Filters shared by the regulator's queue page and the API."""

import django_filters
from django.db.models import Q

from .models import Application, Category, State


class ApplicationFilter(django_filters.FilterSet):
    state = django_filters.MultipleChoiceFilter(choices=State.choices)
    category = django_filters.ChoiceFilter(field_name="project__category", choices=Category.choices)
    case_officer = django_filters.NumberFilter(field_name="case_officer_id")
    unassigned = django_filters.BooleanFilter(field_name="case_officer", lookup_expr="isnull")
    firm = django_filters.NumberFilter(field_name="firm_id")
    cohort = django_filters.NumberFilter(field_name="cohort_id")
    target_level = django_filters.NumberFilter()
    q = django_filters.CharFilter(method="search", label="Search")

    class Meta:
        model = Application
        fields = [
            "state",
            "category",
            "case_officer",
            "unassigned",
            "firm",
            "cohort",
            "target_level",
        ]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(reference__icontains=value)
            | Q(title__icontains=value)
            | Q(firm__name__icontains=value)
            | Q(project__name__icontains=value)
        )
