from django import forms

from .models import TraceKind


class TraceUploadForm(forms.Form):
    kind = forms.ChoiceField(
        choices=TraceKind.choices,
        initial=TraceKind.CONSENSUS,
        widget=forms.RadioSelect,
        label="What the file holds",
    )
    file = forms.FileField(
        label="File (JSON Lines)",
        allow_empty_file=True,
        help_text="One JSON object per line, the header first; see the formats below.",
    )


class HeightForm(forms.Form):
    height = forms.IntegerField(min_value=0, max_value=2**63 - 1, required=False, label="Height")
