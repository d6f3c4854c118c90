"""Events become notices: the outbox row is written in the transaction that records the event.

Connected to the audit Event's post_save by NoticesConfig.ready. Models are looked up in the
app registry because this module is imported while Django loads its apps.
"""

from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.template.loader import render_to_string

from adminpanel import audit, clock
from adminpanel.accounts.browsers import describe
from adminpanel.accounts.signals import LINK_HOURS
from adminpanel.audit.catalogue import AuditEvent, Group, in_group
from adminpanel.net import client_ip
from adminpanel.notices.catalogue import (
    REGAIN_ADMIN,
    REGAIN_SUBADMIN,
    Kind,
    kind_of,
    mailbox_kind_of,
    new_email,
    previous_email,
)

NEW_ADDRESS_DAYS = audit.KNOWN_ADDRESS_DAYS
PURPOSES = {"login": " to sign in", "disable": " to turn off two-factor authentication"}


def queue_notice(sender, instance, created: bool = False, raw: bool = False, **kwargs) -> None:
    """post_save of an audit Event: the notice it calls for, if its account has an e-mail."""
    if not created or raw or not settings.NOTICES_ENABLED:
        return
    if instance.about_account_id is None:  # a mailbox owner's own protection (SPEC §14)
        found = mailbox_kind_of(instance.event, instance.details, instance.actor_name)
        if found is not None:
            _queue_mailbox_notice(instance, found[0], address=found[1])
            return
    kind = kind_of(instance.event, instance.details)
    if kind is None:
        return
    if kind.to_mailbox is not None:
        _queue_mailbox_notice(instance, kind)
        return
    account = instance.about_account  # the row says whom it is about
    if account is None:
        return
    to = previous_email(instance.details) if kind.to_previous_email else account.email
    if not to:
        return
    if kind.new_address_only and _address_seen(instance, account):
        return
    facts = _facts(instance, account)
    context = {
        **facts,
        "what": kind.what.format(**facts),
        "advice": kind.advice.format(**facts),
        "when": instance.at.strftime("%Y-%m-%d %H:%M:%S UTC"),
        # Only as parsed ("Firefox on Linux"): the header itself is the sender's own words.
        "browser": describe(instance.user_agent) if instance.user_agent else "none",
        "issuer": settings.TOTP_ISSUER,
    }
    _outbox(
        account, to, instance.event, instance.at, kind.subject.format(**facts), "notice", context
    )


def queue_email_confirmation(sender, account, address: str, url: str, request=None, **kwargs):
    """accounts.signals.email_confirmation_requested: the link, mailed to the new address (only
    while notices are on, like every notice)."""
    if not settings.NOTICES_ENABLED:
        return
    at = clock.now()
    agent = request.META.get("HTTP_USER_AGENT", "") if request is not None else ""
    context = {
        "account": account.username,
        "address": address,
        "url": url,
        "hours": LINK_HOURS,
        "when": at.strftime("%Y-%m-%d %H:%M:%S UTC"),
        "ip": client_ip(request) if request is not None else "none (the server's command line)",
        "browser": describe(agent) if agent else "none",
        "issuer": settings.TOTP_ISSUER,
    }
    subject = "Confirm this address for notices"
    event = AuditEvent.EMAIL_CHANGE_REQUESTED
    _outbox(account, address, event, at, subject, "email_confirmation", context)


def _queue_mailbox_notice(event, kind: Kind, *, address: str | None = None) -> None:
    """A notice for a mailbox's owner, mailed to the mailbox itself (it has no account)."""
    address = address or event.details.get(kind.to_mailbox)
    if not isinstance(address, str) or "@" not in address:
        return
    old = event.details.get("old_address", "")
    facts = {
        "account": address,
        "old_address": old,
        "old_address_fate": (
            f"Mail to {old} still reaches you."
            if event.details.get("old_address_kept_as_alias")
            else f"Mail to {old} is no longer delivered: give your new address to your "
            "correspondents."
        ),
        "by": "The server's operator" if event.actor_id is None else "An administrator",
        "ip": event.ip or "none (the server's command line)",
    }
    context = {
        **facts,
        "what": kind.what.format(**facts),
        "advice": kind.advice.format(**facts),
        "when": event.at.strftime("%Y-%m-%d %H:%M:%S UTC"),
        "issuer": settings.TOTP_ISSUER,
    }
    subject = kind.subject.format(**facts)
    _outbox(None, address, event.event, event.at, subject, "mailbox_notice", context)


def _outbox(account, to: str, event: str, at, subject: str, template: str, context: dict) -> None:
    """The outbox row of one notice: due at once, in the caller's transaction."""
    apps.get_model("notices", "Notice").objects.create(
        account=account,
        to=to,
        event=event,
        subject=f"[{settings.TOTP_ISSUER}] {subject}",
        body=render_to_string(f"notices/{template}.txt", context),
        created_at=at,
        next_attempt_at=at,
    )


def _address_seen(event, account) -> bool:
    """Whether the account signed in from this IP address in the last 90 days (before now)."""
    if not event.ip:
        return True
    return (
        type(event)
        .objects.filter(
            actor=account,
            event__in=in_group(Group.SIGN_IN),
            ip=event.ip,
            at__gte=event.at - timedelta(days=NEW_ADDRESS_DAYS),
        )
        .exclude(pk=event.pk)
        .exists()
    )


def _duration(seconds: object) -> str:
    if not isinstance(seconds, int) or seconds <= 0:
        return "a while"
    minutes = max(1, round(seconds / 60))
    if minutes < 60:
        return "1 minute" if minutes == 1 else f"{minutes} minutes"
    return "1 hour" if minutes == 60 else f"{minutes // 60} hours"


def _facts(event, account) -> dict:
    """What a notice's texts may name. Never a secret: the details of an event hold none."""
    details = event.details
    key_name = details.get("name")
    if event.actor_id is None:
        by = "The server's operator"
    elif event.actor_id == account.pk:
        by = "You"
    else:
        by = f"The Admin ({event.actor_name})"
    return {
        "account": account.username,
        "new_email": new_email(details),
        "ip": event.ip or "none (the server's command line)",
        "by": by,
        "key_name": f" “{key_name}”" if isinstance(key_name, str) and key_name else "",
        "purpose": PURPOSES.get(details.get("purpose"), ""),
        "codes_left": details.get("codes_left", "some"),
        "failures": details.get("failures", "Several"),
        "wait": _duration(details.get("wait_seconds")),
        "require_2fa": "on" if details.get("require_2fa_for_subadmins") else "off",
        "regain": (REGAIN_ADMIN if account.is_owner else REGAIN_SUBADMIN).format(
            account=account.username
        ),
    }
