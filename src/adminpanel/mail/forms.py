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


class MailboxForm(forms.Form):
    address = forms.CharField(
        label="Address",
        max_length=400,
        widget=forms.TextInput(attrs=TEXT),
        help_text="name@domain, on a domain you have added.",
    )
    display_name = forms.CharField(label="Display name", max_length=200, required=False)
    password = new_password_field()
    quota_mb = forms.IntegerField(
        label="Quota (MB)", min_value=1, max_value=10 * 1024 * 1024, initial=1024
    )
    active = forms.BooleanField(label="Active", required=False, initial=True)


class MailboxEditForm(MailboxForm):
    address = None
    password = new_password_field(required=False)


class AliasForm(forms.Form):
    address = forms.CharField(label="Address", max_length=400, widget=forms.TextInput(attrs=TEXT))
    destinations = forms.CharField(
        label="Destinations",
        max_length=40000,
        widget=forms.Textarea(attrs={**TEXT, "rows": 4}),
        help_text="One address per line.",
    )
    active = forms.BooleanField(label="Active", required=False, initial=True)


class AliasEditForm(AliasForm):
    address = None


class DeleteForm(forms.Form):
    cascade = forms.BooleanField(required=False)
