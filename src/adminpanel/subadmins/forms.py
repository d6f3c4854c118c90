from django import forms

from adminpanel.accounts.access import normalize_allowed_ips
from adminpanel.accounts.forms import allowed_ips_field, new_password_field
from adminpanel.accounts.models import Level
from adminpanel.errors import Invalid
from adminpanel.mail import scope
from adminpanel.mail.addresses import domain_to_unicode
from adminpanel.sections import SECTIONS

LEVELS = [(level.value, level.label) for level in Level]
SOME = "some"  # the form's word for a list of domains


class SubAdminForm(forms.Form):
    username = forms.CharField(
        label="Username",
        max_length=300,
        widget=forms.TextInput(
            attrs={"autocapitalize": "none", "spellcheck": "false", "autocomplete": "off"}
        ),
        help_text="3–150 characters: letters, digits and . _ @ + -",
    )
    password = new_password_field()
    active = forms.BooleanField(
        label="Active",
        required=False,
        initial=True,
        help_text="An inactive account cannot log in; its sessions end.",
    )
    web_access = forms.BooleanField(
        label="Admin Panel",
        required=False,
        initial=True,
        help_text="Logs in to these pages, with 2FA if it sets it up.",
    )
    api_access = forms.BooleanField(
        label="API",
        required=False,
        help_text="Logs in to /api/v1 for a token. An API login cannot use 2FA: "
        "restrict it to known IP addresses.",
    )
    allowed_ips = allowed_ips_field()
    require_2fa = forms.BooleanField(
        label="Require 2FA",
        required=False,
        help_text="After its password it reaches only Security → 2FA until it enables 2FA.",
    )

    domains_scope = forms.ChoiceField(
        label="Domains scope",
        choices=[(scope.ALL, "All domains"), (SOME, "Only the domains chosen below")],
        initial=scope.ALL,
        required=False,  # not sent: unchanged on an edit, all domains for a new Sub-Admin
        widget=forms.RadioSelect,
        help_text="Limited to some domains, it sees and changes only them, their mailboxes, "
        "aliases and log events, and adds no domain.",
    )
    scope_domains = forms.MultipleChoiceField(
        label="Domains in scope", required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, domains: list[str], chosen: list[str] | None = None, **kwargs):
        """`domains`: every domain's A-label, for the picker; `chosen` (ticked) come first, so
        that with hundreds of domains the scope is seen at a glance."""
        super().__init__(*args, **kwargs)
        first = set(chosen or [])
        ordered = sorted(domains, key=lambda name: name not in first)
        self.fields["scope_domains"].choices = [(n, domain_to_unicode(n)) for n in ordered]
        for section in SECTIONS:  # one level per section, after the fields above
            self.fields[section.key] = forms.TypedChoiceField(
                label=section.label, choices=LEVELS, coerce=int, initial=0
            )

    def level_fields(self) -> list[forms.BoundField]:
        return [self[section.key] for section in SECTIONS]

    def clean_allowed_ips(self) -> str:
        """The service's own check, early, so its message shows with the form's other ones."""
        raw = self.cleaned_data["allowed_ips"]
        try:
            normalize_allowed_ips(raw)
        except Invalid as error:
            raise forms.ValidationError(error.message) from None
        return raw

    def service_arguments(self) -> dict:
        data = dict(self.cleaned_data)
        data["levels"] = {s.key: data.pop(s.key) for s in SECTIONS}
        chosen = data.pop("scope_domains")
        if not data["domains_scope"]:
            data["domains_scope"] = None
        elif data["domains_scope"] != scope.ALL:
            data["domains_scope"] = chosen  # none chosen: the service says to choose one
        return data


class SubAdminEditForm(SubAdminForm):
    password = new_password_field(required=False)
