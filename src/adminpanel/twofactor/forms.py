from django import forms

from adminpanel.people.kinds import SignsIn
from adminpanel.twofactor.ceremony import MAX_ANSWER, UNREADABLE
from adminpanel.twofactor.services import KEY_OR_RECOVERY, MALFORMED, cannot_type_code


class ChallengeForm(forms.Form):
    """One input for a 6-digit code or a recovery code; the service judges its shape."""

    challenge = forms.CharField(
        label="Challenge",
        max_length=100,
        error_messages=dict.fromkeys(
            ("required", "max_length", "null_characters_not_allowed"), MALFORMED
        ),
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

    def __init__(self, *args, who: SignsIn | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.who = who  # whose answer it is, when its messages should fit its factors

    def clean(self) -> dict:
        cleaned = super().clean()
        # No app: the input takes a recovery code, so the message names the key, not 6 digits.
        # Asked only when the answer was refused, so an accepted one costs no query.
        if "challenge" in self.errors and self.who is not None and cannot_type_code(self.who):
            self.errors["challenge"] = self.error_class([KEY_OR_RECOVERY])
        return cleaned


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


def answer_field(*, required: bool = True) -> forms.CharField:
    """The hidden input that carries the browser's signed answer (JSON); the service reads and
    judges it. Its own messages say what went wrong when it is not even that."""
    return forms.CharField(
        widget=forms.HiddenInput,
        max_length=MAX_ANSWER,
        strip=False,
        required=required,
        error_messages={
            "required": NO_ANSWER,
            "max_length": UNREADABLE,
            "null_characters_not_allowed": UNREADABLE,
        },
    )


class KeyAnswerForm(forms.Form):
    """The browser's signed answer (JSON); the service reads and judges it."""

    credential = answer_field()


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
