"""The regulator's "New evaluation" form: which finished runs, which index version."""

from django import forms

from assessments.models import FINISHED_STATUSES, TestRun

from .models import IndexModel
from .yaml_io import default_index


class NewEvaluationForm(forms.Form):
    test_runs = forms.ModelMultipleChoiceField(
        queryset=TestRun.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Finished test runs of this case to take evidence from. Indicators whose "
        "input none of them provides come out as not assessed; what an invalid run holds is "
        "inconclusive.",
    )
    index_model = forms.ModelChoiceField(
        queryset=IndexModel.objects.order_by("name", "-version"),
        help_text="Using a version locks it: later changes make a new version.",
    )

    def __init__(self, application, *args, **kwargs):
        super().__init__(*args, **kwargs)
        runs = TestRun.objects.filter(
            application=application, status__in=FINISHED_STATUSES
        ).order_by("-finished_at", "-pk")
        field = self.fields["test_runs"]
        field.queryset = runs
        field.label_from_instance = lambda run: (
            f"Run {run.pk}: {', '.join(run.suites)} ({run.get_status_display().lower()}, "
            f"{run.outcome_label.lower() or 'no outcome'}, {run.finished_at:%d %b %Y %H:%M})"
        )
        self.fields["test_runs"].initial = [run.pk for run in runs]
        self.fields["index_model"].initial = default_index().pk
