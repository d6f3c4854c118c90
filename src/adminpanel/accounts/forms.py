from django import forms


def new_password_field(*, required: bool = True) -> forms.CharField:
    """A new password for a Sub-Admin or a mailbox; on edit pages empty keeps the old one."""
    return forms.CharField(
        label="Password",
        max_length=5000,
        strip=False,
        required=required,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 10 characters, not a common password."
        if required
        else "Leave empty to keep the current password.",
    )


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
    )
    challenge = forms.CharField(label="Challenge", max_length=100, required=False)
    # A security key's signed answer (Use security key), in place of the Challenge.
    credential = forms.CharField(
        widget=forms.HiddenInput, max_length=64 * 1024, strip=False, required=False
    )


class PolicyForm(forms.Form):
    require_2fa_for_subadmins = forms.BooleanField(
        label="Require 2FA for Sub-Admins",
        required=False,
        help_text="Every Sub-Admin with Admin Panel access must enable 2FA; until it does, "
        "it reaches only Security → 2FA after its password.",
    )
