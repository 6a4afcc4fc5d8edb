"""The regulator's forms on the monitoring page: alert rule thresholds, and the period of
a monitoring summary."""

import datetime

from django import forms
from django.utils import timezone

from .models import AlertRules
from .summary import LONGEST_PERIOD


class AlertRulesForm(forms.ModelForm):
    """Thresholds, each checked against the model's bounds (a bad value changes nothing)."""

    class Meta:
        model = AlertRules
        fields = list(AlertRules.EDITABLE)
        widgets = {
            "block_time_s": forms.NumberInput(attrs={"step": "any", "min": "0.05"}),
            "latency_bound_s": forms.NumberInput(attrs={"step": "any", "min": "0.0001"}),
        }


class SummaryForm(forms.Form):
    """The period a monitoring summary covers, in whole days (to the end of ``end``)."""

    start = forms.DateField(
        label="From",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="First day.",
    )
    end = forms.DateField(
        label="To",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="Last day.",
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if start > end:
                raise forms.ValidationError("The period must start before it ends.")
            if end > timezone.localdate():
                raise forms.ValidationError("The period cannot end in the future.")
            if end - start >= LONGEST_PERIOD:
                raise forms.ValidationError("A summary covers at most 400 days.")
        return data

    def period(self):
        """[start of the first day, end of the last day or now) as aware datetimes."""
        tz = timezone.get_current_timezone()
        start = datetime.datetime.combine(self.cleaned_data["start"], datetime.time.min, tz)
        end = datetime.datetime.combine(
            self.cleaned_data["end"] + datetime.timedelta(days=1), datetime.time.min, tz
        )
        return start, min(end, timezone.now())
