"""The audit log. Services call `record` with a member of the catalogue; views never do."""

from datetime import datetime, timedelta

import idna
from django.apps import apps as app_registry  # not `apps`: that is also our submodule
from django.http import HttpRequest

from adminpanel import clock, prepared
from adminpanel.audit.catalogue import AuditEvent, Group, Subject, in_group
from adminpanel.net import client_ip
from adminpanel.sessions import TWO_FACTOR

KNOWN_ADDRESS_DAYS = 90


def record(
    event: AuditEvent,
    *,
    actor=None,
    about_account=None,
    request: HttpRequest | None = None,
    actor_name: str = "",
    at: datetime | None = None,
    remote_ip: str = "",
    **details,
):
    """Append one event with time (UTC), actor, client IP, user agent and details.

    `event` is a member of the catalogue, never a string, and the row holds the details the
    member says it carries (ValueError otherwise: a reader relies on them). The account it is
    about is the actor's or `about_account`, as the member's Subject says.

    Secrets, codes and passwords must never be passed as details. The model is looked up in
    the app registry because this package is imported while Django loads its apps. `at` and
    `remote_ip`: an event that happened elsewhere (a mail login the mail host reported).
    """
    if not isinstance(event, AuditEvent):
        raise TypeError(f"audit.record() takes a member of AuditEvent, not {event!r}")
    missing = [name for name in event.carries if name not in details]
    if missing:
        raise ValueError(f"{event} carries {', '.join(event.carries)}: {missing} missing")
    key = getattr(request, "api_key", None)  # set by the API's bearer check
    if key is not None:
        # A change made with an API key names the key (SPEC §17), whichever service logs it.
        details = {"api_key": key.name, "api_key_id": key.pk, **details}
    ip = client_ip(request) if request is not None else remote_ip[:64]
    user = getattr(request, "user", None)
    session = getattr(request, "session", None)
    signed_in = user is not None and user.is_authenticated and session is not None
    agent = request.META.get("HTTP_USER_AGENT", "")[:512] if request is not None else ""
    event_row = app_registry.get_model("audit", "Event")(
        at=at or clock.now(),
        actor=_saved(actor),
        about_account=_saved(_about(event, actor, about_account)),
        actor_name=(actor.username if actor is not None else actor_name)[:150],
        event=event,
        ip=ip,
        user_agent=agent,
        details=details,
        session_2fa=bool(session.get(TWO_FACTOR)) if signed_in else None,
        domain=domain_of(event, details, _person_name(actor, actor_name)),
    )
    # Every request that changes something records an event: its INSERT is built once per
    # process (adminpanel.prepared), with the post_save that notices and metrics receive.
    prepared.insert(event_row)
    return event_row


def domain_of(event: AuditEvent, details: dict, person: str = "") -> str:
    """The domain (A-label) of the mail data an event is about, "" for none: an alias domain's
    target, a domain, an address's domain, or the domain of `person`, an actor that is no
    account (a mailbox owner in My mailbox, a mail app), named by its address.

    An account's own events never have one (its username may look like an address), so a
    limited Sub-Admin never reads them by a domain; a mailbox owner's own events (its sign-ins,
    its 2FA) belong to its mailbox's domain."""
    if event.about in (Subject.ACTOR, Subject.NAMED):
        address = details.get("mailbox") or person
    else:
        name = details.get("target") if "alias_domain" in details else details.get("domain")
        if name:
            return _a_label(str(name))
        address = details.get("address") or details.get("mailbox") or person
    address = str(address or "")
    return _a_label(address.rpartition("@")[2]) if "@" in address else ""


def _person_name(actor, actor_name: str) -> str:
    """The name of an actor that is no saved account (a mailbox owner, a mail app), else ""."""
    if actor is None:
        return actor_name
    return "" if getattr(actor, "pk", None) else str(getattr(actor, "username", ""))


def _a_label(name: str) -> str:
    # Addresses are logged as people write them ("info@bücher.example"); domains as A-labels.
    try:
        return idna.encode(name.strip().rstrip("."), uts46=True).decode("ascii").lower()[:253]
    except (idna.IDNAError, UnicodeError, ValueError):
        return name.lower()[:253]


def _about(event: AuditEvent, actor, about_account):
    if event.about is Subject.NAMED:
        return about_account
    if about_account is not None:
        raise ValueError(f"{event} is about {event.about}: about_account= is not for it")
    return actor if event.about is Subject.ACTOR else None


def _saved(account):
    """The account for a foreign key: None for no account or one not (or no longer) saved."""
    return account if account is not None and account.pk else None


def signed_in_from(account, ip: str, *, now: datetime) -> bool:
    """Whether the account completed a sign-in from this IP address in the last 90 days."""
    if not ip or account is None or not account.pk:
        return False
    return (
        app_registry.get_model("audit", "Event")
        .objects.filter(
            actor_id=account.pk,
            event__in=in_group(Group.SIGN_IN),
            ip=ip,
            at__gte=now - timedelta(days=KNOWN_ADDRESS_DAYS),
            at__lte=now,
        )
        .exists()
    )
