"""The form a regulator starts a test run with: suites, nodes and parameters (JSON)."""

import json

from django import forms
from django.core.exceptions import ValidationError

from . import plans


class StartRunForm(forms.Form):
    suites = forms.MultipleChoiceField(
        choices=[(name, plans.SUITE_LABELS[name]) for name in plans.SUITE_ORDER],
        widget=forms.CheckboxSelectMultiple,
        help_text="The plan ticks the suites of the case's target level and category.",
    )
    nodes = forms.ModelMultipleChoiceField(
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
        help_text="Only nodes registered for this case can be tested.",
    )
    parameters = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 14, "spellcheck": "false", "class": "mono"}),
        required=False,
        help_text="A JSON object keyed by suite; a suite left out runs with the plan's "
        "defaults. Unknown or mistyped parameters are refused.",
    )

    def __init__(self, application, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.application = application
        nodes = application.nodes.order_by("label")
        self.fields["nodes"].queryset = nodes
        self.fields["nodes"].label_from_instance = lambda n: f"{n.label} ({n.endpoint_url})"
        if not self.is_bound:
            plan = plans.default_plan(application)
            self.initial.setdefault("suites", plan["suites"])
            self.initial.setdefault("nodes", [n.pk for n in nodes])
            self.initial.setdefault("parameters", json.dumps(plan["parameters"], indent=2))

    def clean_parameters(self):
        return plans.parse_json(self.cleaned_data.get("parameters"))

    def clean(self):
        data = super().clean()
        if "suites" not in data or "parameters" not in data:
            return data
        try:
            data["suites"], data["parameters"] = plans.clean_plan(
                data["suites"], data["parameters"]
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                self.add_error(field, errors)
        return data
