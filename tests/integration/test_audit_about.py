"""Issue 17 item 4: an audit row says which account it is about, and notices go to that account
(not to whoever has the username its details name)."""

import pytest
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor

from adminpanel import audit
from adminpanel import clock as panel_clock
from adminpanel.accounts import profile
from adminpanel.accounts.services import change_own_password
from adminpanel.audit.catalogue import AuditEvent
from adminpanel.audit.models import Event
from adminpanel.mail import services as mail
from adminpanel.notices.models import Notice
from adminpanel.subadmins.services import delete_subadmin, reset_subadmin_2fa, update_subadmin
from tests.integration.panel import ADMIN_PASSWORD, mailed_links, make_subadmin, signed_in
from tests.migrating import migrate

pytestmark = pytest.mark.django_db


def last(event: AuditEvent) -> Event:
    return Event.objects.filter(event=event).latest("id")


def test_an_accounts_own_event_is_about_that_account(admin):
    change_own_password(admin, ADMIN_PASSWORD, "a-new-long-passphrase-1")
    assert last(AuditEvent.PASSWORD_CHANGED).about_account == admin


def test_an_event_about_another_account_names_it(admin, enable_2fa):
    bob = make_subadmin(admin, "bob")
    assert last(AuditEvent.SUBADMIN_CREATED).about_account == bob
    signed_in("bob")
    update_subadmin(admin, bob, password="another-long-passphrase-2")
    assert last(AuditEvent.SUBADMIN_UPDATED).about_account == bob
    ended = last(AuditEvent.WEB_SESSIONS_ENDED)
    assert (ended.actor, ended.about_account) == (admin, bob)
    enable_2fa(bob)
    reset_subadmin_2fa(admin, bob)
    reset = last(AuditEvent.TWO_FACTOR_RESET)
    assert (reset.actor, reset.about_account) == (admin, bob)


def test_mail_data_is_about_no_account_and_a_deleted_account_leaves_none(admin):
    mail.create_domain(admin, name="example.com")
    assert last(AuditEvent.DOMAIN_CREATED).about_account is None
    bob = make_subadmin(admin, "bob")
    delete_subadmin(admin, bob)
    assert last(AuditEvent.SUBADMIN_CREATED).about_account is None  # SET_NULL
    assert last(AuditEvent.SUBADMIN_DELETED).about_account is None


def test_a_notice_goes_to_the_account_the_event_is_about_whatever_its_details_say(admin, settings):
    settings.NOTICES_ENABLED = True
    bob = make_subadmin(admin, "bob")
    carol = make_subadmin(admin, "carol")
    for account, address in ((bob, "bob@example.com"), (carol, "carol@example.com")):
        with mailed_links() as links:
            profile.update_profile(account, email=address, ip="203.0.113.7")
        token = links[-1].rstrip("/").rsplit("/", 1)[-1]
        profile.confirm_email_change(account, token, now=panel_clock.now())
    with transaction.atomic():
        audit.record(AuditEvent.TWO_FACTOR_RESET, actor=admin, about_account=bob, account="carol")
    (notice,) = Notice.objects.filter(event=AuditEvent.TWO_FACTOR_RESET)
    assert (notice.account, notice.to) == (bob, "bob@example.com")
    assert "your account bob" in notice.body


# --- rows recorded before the column ----------------------------------------------------------

BEFORE_COLUMN = ("audit", "0002_session_2fa")


def _leaves():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def _before_column():
    """Every app as it is, the audit log as it was before the column."""
    return [BEFORE_COLUMN if app == "audit" else (app, name) for app, name in _leaves()]


@pytest.mark.django_db(transaction=True)
def test_rows_recorded_before_say_whom_they_are_about():
    apps = migrate(_before_column())
    try:
        Account = apps.get_model("accounts", "Account")
        Event = apps.get_model("audit", "Event")
        Notice = apps.get_model("notices", "Notice")
        Person = apps.get_model("people", "Person")  # a historical Account makes none itself
        now = panel_clock.now()
        alice, bob = (
            Account.objects.create(
                username=name,
                password="!",
                created_at=now,
                person=Person.objects.create(kind="account"),
            )
            for name in ("alice", "bob")
        )
        notice = Notice.objects.create(account=bob, to="bob@example.com", event="2fa_reset")
        rows = {
            "own": Event.objects.create(event="2fa_enabled", actor=alice, at=now),
            "named": Event.objects.create(
                event="2fa_reset", actor=alice, details={"account": "BOB"}, at=now
            ),
            "before_bob": Event.objects.create(
                event="2fa_reset", details={"account": "bob"}, at=now.replace(year=now.year - 1)
            ),
            "sent": Event.objects.create(
                event="notice_sent", details={"notice": notice.pk, "about": "2fa_reset"}, at=now
            ),
            "data": Event.objects.create(event="domain_created", actor=alice, at=now),
        }
        apps = migrate(_leaves())
        Event = apps.get_model("audit", "Event")
        about = {name: Event.objects.get(pk=row.pk).about_account_id for name, row in rows.items()}
    finally:
        migrate(_leaves())
    assert about == {
        "own": alice.pk,
        "named": bob.pk,
        "before_bob": None,  # a bob made later is not the one it named
        "sent": bob.pk,
        "data": None,
    }
