"""Filters shared by the regulator's queue page and the API."""

import django_filters
from django import forms
from django.db.models import Q

from .models import Application, Category, State

# The largest value a database integer column holds (PostgreSQL bigint, SQLite INTEGER).
LARGEST_ID = 2**63 - 1


class WholeNumberFilter(django_filters.NumberFilter):
    """A whole number the database can hold, such as an id; anything else is a 400,
    never a database error."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", -LARGEST_ID)
        kwargs.setdefault("max_value", LARGEST_ID)
        super().__init__(*args, **kwargs)


class ApplicationFilter(django_filters.FilterSet):
    state = django_filters.MultipleChoiceFilter(choices=State.choices)
    category = django_filters.ChoiceFilter(field_name="project__category", choices=Category.choices)
    case_officer = WholeNumberFilter(field_name="case_officer_id")
    unassigned = django_filters.BooleanFilter(field_name="case_officer", lookup_expr="isnull")
    firm = WholeNumberFilter(field_name="firm_id")
    cohort = WholeNumberFilter(field_name="cohort_id")
    target_level = WholeNumberFilter()
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
