from django import forms


class OTPTokenForm(forms.Form):
    """The code from the authenticator app."""

    otp_token = forms.CharField(
        label="Code from your authenticator app",
        max_length=16,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "autofocus": True,
                "size": 8,
            }
        ),
        error_messages={"required": "Enter the 6-digit code from your authenticator app."},
    )
