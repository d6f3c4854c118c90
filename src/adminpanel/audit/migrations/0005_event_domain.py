"""An event about mail data names its domain (A-label), so that a Sub-Admin limited to some
domains reads only their events (SPEC §17). Rows recorded before are filled the way record()
fills them now (adminpanel.audit.domain_of, frozen here: the catalogue will grow)."""

import idna
from django.db import migrations, models

# The events about mail data recorded before this migration (catalogue Subject NONE).
MAIL_EVENTS = (
    "domain_created",
    "domain_updated",
    "domain_deleted",
    "dkim_key_rotated",
    "dkim_old_key_removed",
    "alias_domain_created",
    "alias_domain_updated",
    "alias_domain_deleted",
    "mailbox_created",
    "mailbox_updated",
    "mailbox_deleted",
    "mailbox_renamed",
    "mailbox_restored",
    "mailbox_purge_requested",
    "mailbox_purged",
    "mailboxes_imported",
    "alias_created",
    "alias_updated",
    "alias_deleted",
    "forwarding_changed",
    "automatic_reply_changed",
    "app_password_created",
    "app_password_revoked",
    "app_passwords_revoked",
    "mail_login",
    "mail_login_failed",
    "mail_login_throttled",
    "mailbox_sessions_ended",
)
# A mailbox owner's own events (My mailbox): the actor is no account, named by its address.
OWNER_EVENTS = (
    "mailbox_login",
    "mailbox_login_failed",
    "mailbox_login_refused",
    "mailbox_login_throttled",
    "mailbox_logout",
    "mailbox_password_changed",
    "mailbox_password_change_failed",
    "mailbox_password_rehashed",
)


def _a_label(name: str) -> str:
    try:
        return idna.encode(name.strip().rstrip("."), uts46=True).decode("ascii").lower()[:253]
    except (idna.IDNAError, UnicodeError, ValueError):
        return name.lower()[:253]


def _domain(event) -> str:
    details = event.details if isinstance(event.details, dict) else {}
    person = event.actor_name if event.actor_id is None else ""
    if event.event in OWNER_EVENTS:
        address = details.get("mailbox") or person
    else:
        name = details.get("target") if "alias_domain" in details else details.get("domain")
        if name:
            return _a_label(str(name))
        address = details.get("address") or details.get("mailbox") or person
    address = str(address or "")
    return _a_label(address.rpartition("@")[2]) if "@" in address else ""


def fill_domains(apps, schema_editor):
    Event = apps.get_model("audit", "Event")
    changed = []
    rows = Event.objects.filter(event__in=MAIL_EVENTS + OWNER_EVENTS)
    for event in rows.iterator(chunk_size=2000):
        event.domain = _domain(event)
        if event.domain:
            changed.append(event)
        if len(changed) == 2000:
            Event.objects.bulk_update(changed, ["domain"])
            changed = []
    Event.objects.bulk_update(changed, ["domain"])


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_event_indexes")]

    operations = [
        migrations.AddField(
            model_name="event",
            name="domain",
            field=models.CharField(blank=True, default="", max_length=253),
        ),
        # Before the rows change: PostgreSQL alters no table whose rows changed in the same
        # transaction.
        migrations.AddIndex(
            model_name="event",
            index=models.Index(fields=["domain", "at"], name="event_domain_at"),
        ),
        migrations.RunPython(fill_domains, migrations.RunPython.noop),
    ]
