"""Leaving staff (SPEC §16): a mailbox's Forwarding and Automatic reply.

The panel stores the settings and, in the same transaction, the Sieve script they make
(mailserver.sieve); Dovecot runs it at delivery, reading it live from mailserver_sieve.

`actor` is the Admin/Sub-Admin editing the mailbox (Users: Edit), or None for the mailbox's
owner acting on their own mailbox (My mailbox: the caller has signed the owner in and passes
only that mailbox).
"""

from __future__ import annotations

from datetime import date

from django.db import transaction

from adminpanel import clock
from adminpanel.accounts.models import Account, Level
from adminpanel.accounts.permissions import require
from adminpanel.audit.catalogue import AuditEvent
from adminpanel.audit.changes import update_and_log
from adminpanel.errors import Invalid
from adminpanel.mail import routes, scope
from adminpanel.mail.addresses import normalize_address
from adminpanel.mail.models import AutomaticReply, Forwarding, Mailbox, SieveScript
from adminpanel.mailserver import sieve

MAX_FORWARDING_DESTINATIONS = sieve.MAX_REDIRECTS
MAX_SUBJECT = 200
MAX_TEXT = 5000


def forwarding_of(mailbox: Mailbox) -> Forwarding:
    """The mailbox's forwarding, or an unsaved empty one."""
    return Forwarding.objects.filter(mailbox=mailbox).first() or Forwarding(mailbox=mailbox)


def automatic_reply_of(mailbox: Mailbox) -> AutomaticReply:
    """The mailbox's automatic reply, or an unsaved one that is off."""
    found = AutomaticReply.objects.filter(mailbox=mailbox).first()
    return found or AutomaticReply(mailbox=mailbox)


# --- validation ---------------------------------------------------------------------------


def _mail_address(mailbox: Mailbox) -> str:
    """The address as the mail servers spell it (lower case, A-label)."""
    return f"{mailbox.local_part.lower()}@{mailbox.domain.name}"


def _destinations(raw: object, mailbox: Mailbox, actor: Account | None) -> list[str]:
    if raw is None:
        raw = []
    if isinstance(raw, str):
        raw = raw.replace(",", "\n").splitlines()
    if not isinstance(raw, list):
        raise Invalid("destinations", "Enter the addresses to forward to, one per line.")
    home = _mail_address(mailbox)
    cleaned: list[str] = []
    for item in raw:
        if isinstance(item, str) and not item.strip():
            continue
        address = normalize_address(item, "destinations")
        if routes.untagged(address) == home:
            raise Invalid("destinations", "A mailbox cannot forward to itself.")
        if address.lower() not in (known.lower() for known in cleaned):
            cleaned.append(address)
    if len(cleaned) > MAX_FORWARDING_DESTINATIONS:
        raise Invalid(
            "destinations",
            f"A mailbox forwards to at most {MAX_FORWARDING_DESTINATIONS} addresses.",
        )
    loop = routes.find_loop(home, routes.Change(forwardings={home: cleaned}))
    if loop:
        raise Invalid(
            "destinations",
            f"Mail forwarded there would come back to this mailbox (a loop {routes.describe(loop)}:"
            f" {scope.route(actor, loop.path)}). Remove that address.",
        )
    return cleaned


def _plain_text(raw: object, field: str, limit: int, *, one_line: bool = False) -> str:
    what = "The subject" if field == "subject" else "The text"
    if raw is None:
        raw = ""
    if not isinstance(raw, str) or len(raw) > limit:
        raise Invalid(field, f"{what} has at most {limit} characters.")
    forbidden = "\x00\r\n" if one_line else "\x00"
    if any(char in raw for char in forbidden):
        # A line break in a subject would start a new header of the reply.
        raise Invalid(field, f"{what} may not contain {'line breaks' if one_line else 'NUL'}.")
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError:
        raise Invalid(field, f"{what} holds characters that are not valid text.") from None
    return raw.strip() if one_line else raw.rstrip()


def _date(raw: object, field: str) -> date | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, date):
        return raw
    if isinstance(raw, str):
        try:
            return date.fromisoformat(raw.strip())
        except ValueError:
            pass
    raise Invalid(field, "Enter a date as YYYY-MM-DD.")


# --- saving --------------------------------------------------------------------------------


def _check(actor: Account | None) -> None:
    if actor is not None:
        require(actor, "users", Level.EDIT)


def _locked(mailbox: Mailbox) -> Mailbox:
    """The mailbox's row, locked: two edits of its settings render the script one by one."""
    return (
        Mailbox.objects.select_for_update(of=("self",)).select_related("domain").get(pk=mailbox.pk)
    )


def _save_script(mailbox: Mailbox) -> None:
    """Render the mailbox's script from what is stored now, in the caller's transaction."""
    forwarding = forwarding_of(mailbox)
    reply = automatic_reply_of(mailbox)
    script = sieve.render(
        sieve.Delivery(
            destinations=tuple(forwarding.destinations),
            keep_copy=forwarding.keep_copy,
            reply=(
                sieve.AutomaticReply(reply.subject, reply.text, reply.starts_on, reply.ends_on)
                if reply.enabled
                else None
            ),
        )
    )
    if not script:
        SieveScript.objects.filter(mailbox=mailbox).delete()
        return
    SieveScript.objects.update_or_create(
        mailbox=mailbox, defaults={"script": script, "script_id": sieve.script_id(script)}
    )


def _logged(actor: Account | None, mailbox: Mailbox, request) -> dict:
    """Who changed the mailbox's settings, as the log names it (its owner, or an actor)."""
    return {
        "actor": actor,
        "actor_name": "" if actor is not None else mailbox.address,
        "request": request,
        "address": mailbox.address,
        "by_owner": actor is None,
    }


def _day(value: object) -> object:
    return value.isoformat() if isinstance(value, date) else value


def set_forwarding(
    mailbox: Mailbox,
    *,
    destinations: object,
    keep_copy: bool = True,
    actor: Account | None,
    request=None,
) -> Forwarding:
    """Forward the mailbox's mail to these addresses (none: stop forwarding), keeping a copy
    in the mailbox or not. Refuses the mailbox itself, more than the maximum, and loops."""
    _check(actor)
    with transaction.atomic():
        mailbox = _locked(mailbox)
        cleaned = _destinations(destinations, mailbox, actor)
        scope.refuse_foreign_destinations(actor, cleaned, "destinations")
        forwarding = forwarding_of(mailbox)
        after = {"destinations": cleaned, "keep_copy": bool(keep_copy)}
        update_and_log(
            forwarding,
            after,
            AuditEvent.FORWARDING_CHANGED,
            unlogged={"updated_at": clock.now()},
            kept=bool(cleaned),  # not forwarded: no row, as for a mailbox that never was
            log_unchanged=True,
            **_logged(actor, mailbox, request),
            **after,
        )
        _save_script(mailbox)
    return forwarding


def set_automatic_reply(
    mailbox: Mailbox,
    *,
    enabled: bool,
    subject: object = "",
    text: object = "",
    starts_on: object = None,
    ends_on: object = None,
    actor: Account | None,
    request=None,
) -> AutomaticReply:
    """Turn the automatic reply on (with its text, and optional first and last days) or off.
    Switched off, the subject and text are kept for next time."""
    _check(actor)
    values = {
        "enabled": bool(enabled),
        "subject": _plain_text(subject, "subject", MAX_SUBJECT, one_line=True),
        "text": _plain_text(text, "text", MAX_TEXT),
        "starts_on": _date(starts_on, "starts_on"),
        "ends_on": _date(ends_on, "ends_on"),
    }
    if values["enabled"] and not values["text"].strip():
        raise Invalid("text", "Enter the text of the automatic reply.")
    if values["starts_on"] and values["ends_on"] and values["ends_on"] < values["starts_on"]:
        raise Invalid("ends_on", "The last day comes before the first day.")
    with transaction.atomic():
        mailbox = _locked(mailbox)
        reply = automatic_reply_of(mailbox)
        update_and_log(
            reply,
            values,
            AuditEvent.AUTOMATIC_REPLY_CHANGED,
            unlogged={"updated_at": clock.now()},
            # The text itself stays out of the log (it may be long); its subject and dates do not.
            shown={"text": lambda _: "…", "starts_on": _day, "ends_on": _day},
            log_unchanged=True,
            **_logged(actor, mailbox, request),
            **{field: _day(value) for field, value in values.items() if field != "text"},
        )
        _save_script(mailbox)
    return reply
