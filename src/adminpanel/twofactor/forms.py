from django import forms


class ChallengeForm(forms.Form):
    """One input for a 6-digit code or a recovery code; the service judges its shape."""

    challenge = forms.CharField(
        label="Challenge",
        max_length=100,
        error_messages={
            "required": "Enter the 6-digit code from your authenticator app.",
            "max_length": "Enter the 6-digit code from your authenticator app.",
            "null_characters_not_allowed": "Enter the 6-digit code from your authenticator app.",
        },
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "autocapitalize": "none",
                "spellcheck": "false",
                "autofocus": True,
                "maxlength": "24",
            }
        ),
    )


class StatusForm(forms.Form):
    status = forms.ChoiceField(
        label="Select Status",
        choices=[("enabled", "Enabled"), ("disabled", "Disabled")],
        error_messages={"invalid_choice": "Choose Enabled or Disabled."},
    )


class SetupForm(ChallengeForm):
    setup = forms.CharField(widget=forms.HiddenInput, max_length=40)
