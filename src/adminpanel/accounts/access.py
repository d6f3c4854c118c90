"""May this account use this channel from this IP address? (SPEC §2, §3, §6)

The one place of that rule: the password step of both logins, every API token check and
every request of a web session ask it.
"""

import ipaddress
from collections.abc import Callable

from adminpanel.accounts.models import Account
from adminpanel.errors import Invalid, Refused
from adminpanel.net import ip_allowed
from adminpanel.people.models import Person

API_ONLY = "This account can only be used with the API."
IP_NOT_ALLOWED = "Logins to this account are not allowed from your IP address."
WEB_DENIED = "This account has no access to the Admin Panel."
API_DENIED = "This account has no access to the API."


def channel_refusal(account: Account, channel: str) -> Refused | None:
    """Why the account may not use `channel` ("web" or "api"), or None if it may."""
    if channel == "web" and not account.web_access:
        if account.api_access:
            return Refused("api_only", API_ONLY)
        return Refused("web_denied", WEB_DENIED)
    if channel == "api" and not account.api_allowed:
        return Refused("api_access_denied", API_DENIED)
    return None


def ip_refusal(account: Account, ip: str) -> Refused | None:
    """Refused("ip_not_allowed") when `ip` is outside the account's allowed IPs, else None."""
    if ip_allowed(ip, account.allowed_ips):
        return None
    return Refused("ip_not_allowed", IP_NOT_ALLOWED)


def refusal(account: Account, *, channel: str, ip: str) -> Refused | None:
    """Why the account may not use `channel` from `ip`, or None if it may."""
    return channel_refusal(account, channel) or ip_refusal(account, ip)


MAX_ALLOWED_IPS = 100


def normalize_allowed_ips(raw: object) -> list[str]:
    """Addresses and CIDR ranges, IPv4 and IPv6, one per line (or a list), normalized."""
    if raw is None:
        return []
    items = raw.splitlines() if isinstance(raw, str) else raw
    if not isinstance(items, list):
        raise Invalid("allowed_ips", "Enter one IP address or CIDR range per line.")
    cleaned: list[str] = []
    wrong: list[str] = []  # every bad line is named at once, not only the first
    for item in items:
        if not isinstance(item, str):
            raise Invalid("allowed_ips", "Enter one IP address or CIDR range per line.")
        text = item.strip()
        if not text:
            continue
        try:
            if "%" in text:  # a zone index ("fe80::1%eth0") never matches a client address
                raise ValueError(text)
            entry = (
                str(ipaddress.ip_network(text, strict=False))
                if "/" in text
                else str(ipaddress.ip_address(text))
            )
        except ValueError:
            wrong.append(repr(text[:60]))
            continue
        if entry not in cleaned:
            cleaned.append(entry)
    if wrong:
        listed = ", ".join(wrong[:10]) + (f" and {len(wrong) - 10} more" if len(wrong) > 10 else "")
        verb = (
            "is not an IP address or CIDR range"
            if len(wrong) == 1
            else "are not IP addresses or CIDR ranges"
        )
        raise Invalid("allowed_ips", f"{listed} {verb}.")
    if len(cleaned) > MAX_ALLOWED_IPS:
        raise Invalid("allowed_ips", f"Enter at most {MAX_ALLOWED_IPS} addresses or ranges.")
    return cleaned


def passkey_admission(ip: str) -> Callable[[Person], tuple[Account | None, Refused | None]]:
    """For a passkey sign-in at the web login (twofactor's `admit`): the account a key's person
    is, if any, and why it may not sign in from `ip` (an inactive one reads as an unknown key)."""

    def admit(person: Person) -> tuple[Account | None, Refused | None]:
        account = Account.objects.filter(person=person).first()
        if account is None:
            return None, None
        if not account.is_active:
            return account, Refused("unknown_key", "This passkey is not registered here.")
        return account, refusal(account, channel="web", ip=ip)

    return admit
