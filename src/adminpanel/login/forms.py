"""The login form and Confirm access."""

from django import forms

from adminpanel.twofactor import interface as twofactor


class LoginForm(forms.Form):
    username = forms.CharField(
        label="Username",
        max_length=1000,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "username",
                "autocapitalize": "none",
                "spellcheck": "false",
                "autofocus": True,
            }
        ),
    )
    password = forms.CharField(
        label="Password",
        max_length=5000,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class ConfirmAccessForm(forms.Form):
    """Confirm access: the password, and the second factor's answer when 2FA is on."""

    password = forms.CharField(
        label="Password",
        max_length=5000,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
        error_messages={"required": "Enter your password."},
    )
    challenge = forms.CharField(label="Challenge", max_length=100, required=False)
    # A security key's signed answer (Use security key), in place of the Challenge.
    credential = twofactor.key_answer_field(required=False)
