"""Issue 17 item 5: one way to apply an edit to a row and log it (audit.changes.update_and_log),
used by every edit of domains, mailboxes, aliases, alias domains, forwardings, automatic
replies, Sub-Admins and profiles. On the real database, with real rows."""

import pytest

from adminpanel.audit.catalogue import AuditEvent
from adminpanel.audit.changes import update_and_log
from adminpanel.audit.models import Event
from adminpanel.mail import services
from adminpanel.mail.models import Domain, Forwarding
from tests.integration.panel import make_admin

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin():
    return make_admin()


@pytest.fixture
def domain(admin) -> Domain:
    return services.create_domain(admin, name="example.com")


def _changed(domain: Domain, changes: dict, **options) -> dict:
    return update_and_log(domain, changes, AuditEvent.DOMAIN_UPDATED, domain=domain.name, **options)


def _updates() -> list[Event]:
    return list(Event.objects.filter(event=AuditEvent.DOMAIN_UPDATED).order_by("id"))


def test_only_the_fields_that_changed_are_written_and_logged(domain):
    # Another request switched the 2FA rule meanwhile: this edit, which does not touch it,
    # must not write this row's stale value back.
    Domain.objects.filter(pk=domain.pk).update(require_owner_2fa=True)
    changed = _changed(domain, {"active": True, "catch_all": "boss@example.com"})
    assert changed == {"catch_all": {"from": "", "to": "boss@example.com"}}
    stored = Domain.objects.get(pk=domain.pk)
    assert (stored.catch_all, stored.require_owner_2fa) == ("boss@example.com", True)
    assert domain.catch_all == "boss@example.com"  # the caller's row says it too
    (event,) = _updates()
    assert event.details == {"domain": "example.com", "edits": changed}


def test_an_edit_that_changes_nothing_writes_nothing_and_logs_nothing(domain):
    Domain.objects.filter(pk=domain.pk).update(active=False)
    assert _changed(domain, {"active": True}) == {}
    assert Domain.objects.get(pk=domain.pk).active is False  # no write of the stale row
    assert _updates() == []


def test_log_unchanged_logs_an_edit_that_changes_nothing_with_no_edits(domain):
    assert _changed(domain, {"active": True}, log_unchanged=True) == {}
    (event,) = _updates()
    assert event.details == {"domain": "example.com", "edits": {}}


def test_unlogged_fields_are_written_every_time_and_never_shown(domain):
    Domain.objects.filter(pk=domain.pk).update(require_owner_2fa=True)
    changed = _changed(domain, {"active": False}, unlogged={"require_owner_2fa": False})
    assert changed == {"active": {"from": True, "to": False}}
    stored = Domain.objects.get(pk=domain.pk)
    assert (stored.active, stored.require_owner_2fa) == (False, False)
    assert _updates()[0].details["edits"] == changed


def test_shown_changes_how_a_value_is_logged_not_whether_it_changed(domain):
    hidden = {"catch_all": lambda _: "…"}
    assert _changed(domain, {"catch_all": ""}, shown=hidden) == {}
    changed = _changed(domain, {"catch_all": "boss@example.com"}, shown=hidden)
    assert changed == {"catch_all": {"from": "…", "to": "…"}}
    assert Domain.objects.get(pk=domain.pk).catch_all == "boss@example.com"


def test_edits_of_what_the_row_does_not_hold_are_logged_with_and_count_as_a_change(domain):
    elsewhere = {"domains_scope": {"from": "all", "to": ["example.com"]}}
    assert _changed(domain, {"active": True}, elsewhere=elsewhere) == elsewhere
    (event,) = _updates()
    assert event.details["edits"] == elsewhere


def test_then_runs_after_the_write_and_its_events_come_before_this_one(admin, domain):
    seen = []

    def then() -> None:
        seen.append(Domain.objects.get(pk=domain.pk).active)
        services.create_domain(admin, name="example.org")  # logs domain_created

    _changed(domain, {"active": False}, then=then)
    assert seen == [False]
    names = list(Event.objects.order_by("id").values_list("event", flat=True))
    assert names[-2:] == [AuditEvent.DOMAIN_CREATED, AuditEvent.DOMAIN_UPDATED]


def test_a_row_not_stored_yet_is_inserted_and_kept_false_deletes_a_stored_one(admin, domain):
    mailbox = services.create_mailbox(admin, address="ceo@example.com", password="Cobalt-27-Harbor")
    details = {"address": mailbox.address, "by_owner": False}
    forwarding = Forwarding(mailbox=mailbox)
    after = {"destinations": ["ceo@example.org"], "keep_copy": False}
    update_and_log(forwarding, after, AuditEvent.FORWARDING_CHANGED, **details, **after)
    stored = Forwarding.objects.get(mailbox=mailbox)
    assert (stored.destinations, stored.keep_copy) == (["ceo@example.org"], False)

    update_and_log(
        stored, {"destinations": []}, AuditEvent.FORWARDING_CHANGED, kept=False, **details
    )
    assert not Forwarding.objects.filter(mailbox=mailbox).exists()
    assert stored.mailbox_id == mailbox.pk  # the caller's row keeps its key
    logged = Event.objects.filter(event=AuditEvent.FORWARDING_CHANGED).order_by("id")
    assert [event.details["edits"] for event in logged] == [
        {
            "destinations": {"from": [], "to": ["ceo@example.org"]},
            "keep_copy": {"from": True, "to": False},
        },
        {"destinations": {"from": ["ceo@example.org"], "to": []}},
    ]


def test_the_event_must_be_a_member_of_the_catalogue(domain):
    with pytest.raises(TypeError):
        update_and_log(domain, {"active": False}, "domain_updated", domain=domain.name)
