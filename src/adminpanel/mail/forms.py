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
    mail_apps_may_use_mailbox_password = forms.BooleanField(
        label="Mail apps may use the mailbox password",
        required=False,
        initial=True,
        help_text="Off: mail apps (IMAP, SMTP) sign in only with app passwords. The mailbox "
        "password never opens them for an owner who has turned 2FA on.",
    )
    require_owner_2fa = forms.BooleanField(
        label="Require 2FA for mailbox owners",
        required=False,
        initial=False,
        help_text="Owners without 2FA can, after their password, only set it up.",
    )


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
    """Edit, and rename: a new Address moves the mailbox with its mail (SPEC §16)."""

    address = forms.CharField(
        label="Address",
        max_length=400,
        required=False,  # empty: unchanged
        widget=forms.TextInput(attrs=TEXT),
        help_text="Change it to rename the mailbox: its mail, 2FA and app passwords stay.",
    )
    keep_old_address_as_alias = forms.BooleanField(
        label="Keep the old address as an alias",
        required=False,
        help_text="When renaming: mail to the old address still arrives here.",
    )
    domain = None
    password = new_password_field(required=False)
    sign_in_allowed = forms.BooleanField(
        label="Sign-in allowed",
        required=False,
        help_text="Off: the mailbox still receives mail, but no password opens it (for staff "
        "who are leaving).",
    )

    field_order = [
        "address",
        "keep_old_address_as_alias",
        "display_name",
        "password",
        "quota_mb",
        "active",
        "sign_in_allowed",
    ]


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


class ForwardingForm(forms.Form):
    destinations = forms.CharField(
        label="Forward to",
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={**TEXT, "rows": 3}),
        help_text="One address per line. Leave empty to stop forwarding.",
    )
    keep_copy = forms.BooleanField(
        label="Keep a copy in this mailbox", required=False, initial=True
    )


class AutomaticReplyForm(forms.Form):
    enabled = forms.BooleanField(label="Send an automatic reply", required=False)
    subject = forms.CharField(
        label="Subject",
        required=False,
        max_length=200,
        help_text="Optional: without one, the reply's subject is \"Auto:\" and the message's.",
    )
    text = forms.CharField(
        label="Text", required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 5})
    )
    starts_on = forms.DateField(
        label="From",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Optional: the first day it answers.",
    )
    ends_on = forms.DateField(
        label="Until",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Optional: the last day it answers. Each sender gets it once every 3 days.",
    )


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


class MailboxImportForm(forms.Form):
    """A mailbox CSV, uploaded as a file or pasted (SPEC §16, Import CSV)."""

    csv_file = forms.FileField(
        label="CSV file",
        required=False,
        help_text="UTF-8, with the header row address,display_name,password,quota_mb.",
    )
    csv_text = forms.CharField(
        label="Or paste the CSV",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={**TEXT, "rows": 8}),
        help_text="An empty password is generated; {SHA512-CRYPT}… and other Dovecot hashes are "
        "imported as they are.",
    )

    def clean(self) -> dict:
        data = super().clean()
        upload = data.get("csv_file")
        if upload is not None:
            try:
                data["csv_text"] = upload.read().decode("utf-8")
            except UnicodeDecodeError:
                raise forms.ValidationError("The file is not UTF-8 text.") from None
        if not data.get("csv_text"):
            raise forms.ValidationError("Choose a CSV file or paste the CSV.")
        return data
