from django import forms

from adminpanel.accounts.subadmin_forms import allowed_ips_field


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
