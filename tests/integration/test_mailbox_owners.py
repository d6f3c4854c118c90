"""A mailbox's owner is a person (SPEC §14, README "A new kind of person"): made with the
mailbox (one by one and by CSV import), given to existing mailboxes by migration, gone when the
mailbox's mail is purged; its second factor's changes end its other sessions."""

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from adminpanel.accounts.models import Account
from adminpanel.audit.models import Event
from adminpanel.mail import deleted, mailbox_csv, services
from adminpanel.mail.models import Mailbox
from adminpanel.mailserver.models import PurgedMaildir
from adminpanel.owners.models import OwnerSession
from adminpanel.people.models import Person
from adminpanel.twofactor import interface as twofactor
from tests.migrating import migrate
from tests.owners import owner_of, owner_with_2fa

PASSWORD = "Mailbox-Cobalt-Harbor-27"


@pytest.fixture
def admin(db) -> Account:
    return Account.objects.create_user("admin", "Admin-Quartz-Lantern-4817", is_owner=True)


@pytest.fixture
def box(admin) -> Mailbox:
    services.create_domain(admin, name="owners.example")
    return services.create_mailbox(admin, address="ann@owners.example", password=PASSWORD)


def test_a_new_mailbox_has_an_owner_of_the_mailbox_kind(box):
    assert Person.objects.get(pk=box.person_id).kind == "mailbox"
    assert owner_of(box).username == "ann@owners.example"


def test_imported_mailboxes_each_get_an_owner(admin, box):
    text = "address,display_name,password,quota_mb\nbo@owners.example,,,\ncy@owners.example,,,\n"
    result = mailbox_csv.import_mailboxes(admin, text, dry_run=False)
    assert not result.errors
    boxes = Mailbox.objects.filter(local_part__in=["bo", "cy"])
    people = {b.person_id for b in boxes}
    assert len(people) == 2
    assert set(Person.objects.filter(pk__in=people).values_list("kind", flat=True)) == {"mailbox"}


def test_the_owner_goes_when_the_mailbox_is_purged_with_its_second_factor(admin, box, clock):
    owner_with_2fa(box, clock)
    services.delete_mailbox(admin, box)
    assert Person.objects.filter(pk=box.person_id).exists()  # Restore keeps its 2FA
    PurgedMaildir.objects.create(maildir=box.maildir, purged_at=clock())
    assert deleted.forget_purged() == 1
    assert not Person.objects.filter(pk=box.person_id).exists()


def test_turning_2fa_on_ends_the_owners_other_sessions(box, clock):
    for key in ("a" * 32, "b" * 32):
        Session.objects.create(
            session_key=key, session_data="", expire_date=clock() + timedelta(hours=1)
        )
        OwnerSession.objects.create(session_key=key, mailbox=box)
    owner = owner_with_2fa(box, clock)
    assert not OwnerSession.objects.exists()
    assert not Session.objects.filter(session_key__in=["a" * 32, "b" * 32]).exists()
    ended = Event.objects.get(event="mailbox_sessions_ended")
    assert ended.actor_name == "ann@owners.example" and ended.details["sessions"] == 2
    assert Event.objects.filter(event="2fa_enabled", actor_name="ann@owners.example").exists()
    assert twofactor.is_enabled(owner.account)


def _leaves():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_existing_mailboxes_get_an_owner_and_the_mail_views_still_read_them():
    before = [("mail", "0011_search_indexes"), ("mailserver", "0015_dkim_keys_view")]
    after = [("mail", "0013_mailbox_person_required"), ("mailserver", "0016_owners_with_2fa")]
    apps = migrate(before)
    try:
        Domain, Mailbox_ = apps.get_model("mail", "Domain"), apps.get_model("mail", "Mailbox")
        domain = Domain.objects.create(name="old.example")
        for local in ["alice", "bob"]:
            Mailbox_.objects.create(
                local_part=local, domain=domain, password_hash="!", maildir=f"old.example/{local}/"
            )
        apps = migrate(after)
        people = apps.get_model("mail", "Mailbox").objects.values_list("person__kind", flat=True)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT address, mail_apps_may_use_password FROM mailserver_mailboxes ORDER BY 1"
            )
            found = [(address, bool(may)) for address, may in cursor.fetchall()]
            cursor.execute("SELECT count(*) FROM mailbox_owners_with_2fa")
            with_2fa = cursor.fetchone()[0]
    finally:
        migrate(_leaves())
    assert list(people) == ["mailbox", "mailbox"]
    assert found == [("alice@old.example", True), ("bob@old.example", True)]
    assert with_2fa == 0
