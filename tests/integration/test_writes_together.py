"""adminpanel.prepared.together(): the block's writes go to PostgreSQL as one statement, before
anything else is sent and at the block's end; none when the block fails. SQLite sends each at
once."""

import pytest
from django.db import connection, transaction
from django.db.models.signals import post_save
from django.test.utils import CaptureQueriesContext

from adminpanel import audit, prepared
from adminpanel.accounts.models import Account
from adminpanel.audit.catalogue import AuditEvent
from adminpanel.audit.models import Event

pytestmark = pytest.mark.django_db

POSTGRESQL = connection.vendor == "postgresql"
SAVEPOINTS = ("SAVEPOINT", "RELEASE", "ROLLBACK")  # the test's own transaction around each


def statements(queries) -> list[str]:
    """The first word of each statement sent, the test transaction's savepoints left out."""
    sent = [q["sql"].split(" ", 1)[0] for q in queries.captured_queries]
    return [kind for kind in sent if kind not in SAVEPOINTS]


def signed_out(account: Account) -> Event:
    return audit.record(AuditEvent.WEB_LOGOUT, actor=account)


def test_the_writes_of_a_block_are_one_statement_and_each_gets_its_row():
    alice, bob = Account.objects.create_user("alice"), Account.objects.create_user("bob")
    saved: list[int | None] = []

    def receiver(sender, instance, created, **kwargs):
        saved.append(instance.pk)

    post_save.connect(receiver, sender=Event)
    try:
        with CaptureQueriesContext(connection) as queries:
            with transaction.atomic(), prepared.together():
                first, second = signed_out(alice), signed_out(bob)
    finally:
        post_save.disconnect(receiver, sender=Event)
    assert statements(queries) == (["WITH"] if POSTGRESQL else ["INSERT", "INSERT"])
    assert first.pk and second.pk and first.pk != second.pk
    assert saved == [first.pk, second.pk]  # post_save once each, with the new row's key
    assert {e.actor_name for e in Event.objects.filter(pk__in=saved)} == {"alice", "bob"}


def test_a_read_inside_the_block_sees_the_writes_before_it():
    alice = Account.objects.create_user("alice")
    with transaction.atomic(), prepared.together():
        signed_out(alice)
        assert Event.objects.filter(actor_name="alice").count() == 1


def test_a_block_that_fails_sends_none_of_its_writes():
    alice = Account.objects.create_user("alice")
    with CaptureQueriesContext(connection) as queries, pytest.raises(RuntimeError):
        with transaction.atomic(), prepared.together():
            signed_out(alice)
            raise RuntimeError("the check failed")
    inserts = [q for q in queries.captured_queries if "audit_event" in q["sql"]]
    assert len(inserts) == (0 if POSTGRESQL else 1)
    assert not Event.objects.exists()


def test_a_block_inside_another_joins_it():
    alice = Account.objects.create_user("alice")
    with CaptureQueriesContext(connection) as queries:
        with transaction.atomic(), prepared.together():
            signed_out(alice)
            with prepared.together():
                signed_out(alice)
            assert not POSTGRESQL or not statements(queries)  # still waiting
    assert Event.objects.filter(actor_name="alice").count() == 2
