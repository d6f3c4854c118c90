from django import forms

from adminpanel.accounts.models import Level

LEVELS = [(level.value, level.label) for level in Level]


class SubAdminForm(forms.Form):
    username = forms.CharField(
        label="Username",
        max_length=300,
        widget=forms.TextInput(
            attrs={"autocapitalize": "none", "spellcheck": "false", "autocomplete": "off"}
        ),
        help_text="3–150 characters: letters, digits and . _ @ + -",
    )
    password = forms.CharField(
        label="Password",
        max_length=5000,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 10 characters, not a common password.",
    )
    active = forms.BooleanField(label="Active", required=False, initial=True)
    web_access = forms.BooleanField(label="Admin Panel", required=False, initial=True)
    api_access = forms.BooleanField(label="API", required=False)
    allowed_ips = forms.CharField(
        label="Allowed IPs",
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
        help_text="One IP address or CIDR range per line, IPv4 or IPv6. Empty: any address.",
    )
    domains = forms.TypedChoiceField(label="Domains", choices=LEVELS, coerce=int, initial=0)
    users = forms.TypedChoiceField(label="Users", choices=LEVELS, coerce=int, initial=0)
    aliases = forms.TypedChoiceField(label="Aliases", choices=LEVELS, coerce=int, initial=0)
    logs = forms.TypedChoiceField(label="Logs", choices=LEVELS, coerce=int, initial=0)

    def service_arguments(self) -> dict:
        data = dict(self.cleaned_data)
        data["levels"] = {s: data.pop(s) for s in ("domains", "users", "aliases", "logs")}
        return data


class SubAdminEditForm(SubAdminForm):
    password = forms.CharField(
        label="Password",
        max_length=5000,
        strip=False,
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="Leave empty to keep the current password.",
    )
