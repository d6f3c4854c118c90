"""Security → Password, Profile, Policy and API keys."""

from datetime import UTC, date, datetime, time, timedelta

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


class ApiKeyForm(forms.Form):
    """Security → API keys → Create API key (SPEC §17). The service checks every rule."""

    name = forms.CharField(
        label="Name",
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text="What will use it, e.g. “Billing”. The Logs name the key by it.",
        error_messages={"required": "Give the key a name, e.g. the integration that uses it."},
    )
    subadmin = forms.ChoiceField(
        label="API Sub-Admin",
        help_text="The key acts as this Sub-Admin, with its permissions and allowed IPs. "
        "Listed: active Sub-Admins with API access only.",
        error_messages={"required": "Choose the API Sub-Admin the key acts as."},
    )
    allowed_ips = allowed_ips_field()
    expires = forms.DateField(
        label="Expires",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Optional. The key stops working at the end of this day (UTC). "
        "Empty: it works until it is revoked.",
        error_messages={"invalid": "Enter a date, e.g. 2027-01-31."},
    )

    def __init__(self, *args, subadmins, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subadmin"].choices = [("", "Choose…")] + [
            (str(a.pk), a.username) for a in subadmins
        ]
        self.fields["allowed_ips"].help_text = (
            "Optional: one IP address or CIDR range per line, IPv4 or IPv6. The key works only "
            "from these and from the Sub-Admin's own allowed IPs. Empty: the Sub-Admin's alone."
        )

    def expires_at(self) -> datetime | None:
        """The end of the chosen day, UTC (the first moment the key no longer works)."""
        day = self.cleaned_data.get("expires")
        if day is None:
            return None
        return datetime.combine(day, time.min, tzinfo=UTC) + timedelta(days=1)

    def clean_expires(self) -> date | None:
        day = self.cleaned_data.get("expires")
        if day is not None and day >= date.max - timedelta(days=1):
            raise forms.ValidationError("Choose an earlier day.")
        return day
