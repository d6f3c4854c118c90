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


NO_ANSWER = (
    "Your browser sent no answer from a security key. Security keys need JavaScript and a "
    "browser with WebAuthn."
)


class KeyAnswerForm(forms.Form):
    """The browser's signed answer (JSON); the service reads and judges it."""

    credential = forms.CharField(
        widget=forms.HiddenInput,
        max_length=64 * 1024,
        strip=False,
        error_messages={
            "required": NO_ANSWER,
            "max_length": "The security key's answer could not be read. Try again.",
            "null_characters_not_allowed": "The security key's answer could not be read.",
        },
    )


class KeyForm(KeyAnswerForm):
    """Add security key: a name for the list, then the answer to the browser's prompt."""

    # The service says what is wrong with a name (length, control characters).
    name = forms.CharField(
        label="Key name",
        strip=False,
        error_messages={
            "required": "Enter a name for this key, e.g. “YubiKey on my keyring”.",
            "null_characters_not_allowed": "A key name cannot contain control characters.",
        },
    )
