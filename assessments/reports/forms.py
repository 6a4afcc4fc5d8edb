from django import forms
from django.conf import settings


class VerifyForm(forms.Form):
    file = forms.FileField(
        label="Report PDF",
        help_text="The access-evaluation report as downloaded from the portal (at most 20 MB).",
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,.pdf"}),
    )

    def clean_file(self):
        uploaded = self.cleaned_data["file"]
        limit = settings.REPORT_VERIFY_MAX_BYTES
        if uploaded.size > limit:
            raise forms.ValidationError(
                f"The file is larger than {limit // (1024 * 1024)} MB: it cannot be a report."
            )
        return uploaded
