"""Security → Password, Profile and Policy."""

from django import forms

from adminpanel.accounts.forms import allowed_ips_field
from adminpanel.accounts.passwords import checked_new_password
from adminpanel.errors import Invalid


class OwnPasswordForm(forms.Form):
    """Security → Password: the current password, then the new one twice.

    Each message sits under the field it is about (Django's own form puts the new password's
    rule under the confirmation); the field names are Django's, so scripts keep working. The
    current password is checked by the service (accounts.services), in the login's limits.
    """

    old_password = forms.CharField(
        label="Current password",
        max_length=5000,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
        error_messages={"required": "Enter your current password."},
    )
    new_password1 = forms.CharField(
        label="New password",
        max_length=5000,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 10 characters, not a common password.",
        error_messages={"required": "Enter a new password."},
    )
    new_password2 = forms.CharField(
        label="New password again",
        max_length=5000,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="The same again, to be sure there is no typing mistake.",
        error_messages={"required": "Enter the new password a second time."},
    )

    def __init__(self, account, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.account = account

    def clean_new_password1(self) -> str:
        try:
            return checked_new_password(self.cleaned_data["new_password1"], self.account)
        except Invalid as error:
            raise forms.ValidationError(error.message) from None

    def clean(self) -> dict:
        data = super().clean()
        new, again = data.get("new_password1"), data.get("new_password2")
        if new and again is not None and new != again:
            self.add_error("new_password2", "The two new passwords are not the same.")
        return data


class PolicyForm(forms.Form):
    require_2fa_for_subadmins = forms.BooleanField(
        label="Require 2FA for Sub-Admins",
        required=False,
        help_text="Every Sub-Admin with Admin Panel access must enable 2FA; until it does, "
        "it reaches only Security → 2FA after its password.",
    )


class ProfileForm(forms.Form):
    email = forms.CharField(
        label="E-mail",
        required=False,
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
        help_text="Where the panel tells you about changes to your account's security. "
        "Empty: no notices.",
    )
    allowed_ips = allowed_ips_field()

    def __init__(self, *args, admin: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not admin:  # a Sub-Admin's list is set by the Admin
            del self.fields["allowed_ips"]
