from collections.abc import Sequence

from django import forms

from adminpanel.accounts.forms import new_password_field

TEXT = {"autocapitalize": "none", "spellcheck": "false"}


class DomainForm(forms.Form):
    name = forms.CharField(
        label="Domain name",
        max_length=300,
        widget=forms.TextInput(attrs=TEXT),
        help_text="International names are fine, e.g. bücher.example.",
    )
    catch_all = forms.CharField(
        label="Catch-all address",
        max_length=400,
        required=False,
        widget=forms.TextInput(attrs=TEXT),
        help_text="Optional: receives mail for unknown addresses.",
    )
    active = forms.BooleanField(label="Active", required=False, initial=True)


class DomainEditForm(DomainForm):
    name = None


class DomainPicker(forms.Form):
    """An address typed whole, or its part before @ and a domain chosen from the list."""

    address = forms.CharField(
        label="Address",
        max_length=400,
        widget=forms.TextInput(attrs=TEXT),
        help_text="The part before @ (e.g. anna), then choose the domain; or the whole address.",
    )
    domain = forms.ChoiceField(label="Domain", required=False, choices=[])

    def __init__(self, *args, domains: Sequence[str] = (), **kwargs):
        super().__init__(*args, **kwargs)
        if "domain" in self.fields:  # not on edit forms: an address is not moved
            self.fields["domain"].choices = [("", "Choose a domain")] + [(d, d) for d in domains]

    def clean(self) -> dict:
        data = super().clean()
        address, domain = data.get("address", ""), data.pop("domain", "")
        if address and "@" not in address:
            if not domain:
                self.add_error(
                    "address",
                    "Enter an address such as name@example.com. Or type the part before @ and "
                    "choose its domain.",
                )
            else:
                data["address"] = f"{address}@{domain}"
        return data


class MailboxForm(DomainPicker):
    display_name = forms.CharField(label="Display name", max_length=200, required=False)
    password = new_password_field()
    quota_mb = forms.IntegerField(
        label="Quota (MB)", min_value=1, max_value=10 * 1024 * 1024, initial=1024
    )
    active = forms.BooleanField(label="Active", required=False, initial=True)


class MailboxEditForm(MailboxForm):
    address = None
    domain = None
    password = new_password_field(required=False)


class AliasForm(DomainPicker):
    destinations = forms.CharField(
        label="Destinations",
        max_length=40000,
        widget=forms.Textarea(attrs={**TEXT, "rows": 4}),
        help_text="One address per line.",
    )
    active = forms.BooleanField(label="Active", required=False, initial=True)


class AliasEditForm(AliasForm):
    address = None
    domain = None


class DeleteForm(forms.Form):
    cascade = forms.BooleanField(required=False)


class AliasDomainForm(forms.Form):
    name = forms.CharField(
        label="Alias domain",
        max_length=300,
        widget=forms.TextInput(attrs=TEXT),
        help_text="Another name for a domain, e.g. example.org. It may not be a domain already.",
    )
    target = forms.ChoiceField(
        label="Target domain",
        choices=[],
        help_text="Mail to any address of the alias domain goes to the same address here.",
    )

    def __init__(self, *args, domains: Sequence[tuple[str, str]] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = [("", "Choose a domain")] + list(domains)
