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


def allowed_ips_field() -> forms.CharField:
    """The Allowed IPs text area, for a Sub-Admin's form and the Admin's own profile."""
    return forms.CharField(
        label="Allowed IPs",
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
        help_text="One IP address or CIDR range per line, IPv4 or IPv6. Empty: any address.",
    )
