"""Addresses Postfix or Dovecot could misread: SQL wildcards, upper case, a trailing dot,
non-ASCII, a NUL byte, quotes. Each is refused or looked up exactly, never matched against
another mailbox, and no address reaches the SQL as anything but a value."""

import pytest

from tests.mailserver.mail import can_log_in, rcpt, send, subjects, unique_subject, wait_for

PASSWORD = "Mailbox-Cobalt-Harbor-27"

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def alice(admin_api, domain) -> str:
    address = f"alice@{domain}"
    assert admin_api.post("/users", {"address": address, "password": PASSWORD}).status == 201
    return address


@pytest.mark.parametrize("local", ["%", "_lice", "a%", "al_ce", "%lice", "*", "alice%"])
def test_sql_wildcards_in_an_address_match_no_mailbox(mailserver, alice, local):
    domain = alice.split("@")[1]
    code, reply = rcpt(mailserver, f"{local}@{domain}")
    assert 500 <= code < 600, reply  # 550 unknown; 554 for "%", Postfix's old routing syntax
    assert not can_log_in(mailserver, f"{local}@{domain}", PASSWORD)


def test_an_underscore_is_a_plain_character_of_a_stored_address(mailserver, admin_api, alice):
    domain = alice.split("@")[1]
    assert (
        admin_api.post("/users", {"address": f"a_b@{domain}", "password": PASSWORD}).status == 201
    )
    assert rcpt(mailserver, f"axb@{domain}")[0] == 550
    subject = unique_subject("Underscore")
    send(mailserver, f"a_b@{domain}", subject)
    assert subject in wait_for(mailserver, f"a_b@{domain}", PASSWORD, subject)
    assert subject not in subjects(mailserver, alice, PASSWORD)


def test_an_address_in_upper_case_reaches_the_same_mailbox(mailserver, alice):
    subject = unique_subject("Shouting")
    send(mailserver, alice.upper(), subject)
    assert subject in wait_for(mailserver, alice, PASSWORD, subject)


@pytest.mark.parametrize("spelling", ["{a}.", "{local}\\@{domain}"])
def test_a_trailing_dot_or_a_backslash_is_refused_or_reaches_the_same_mailbox(
    mailserver, alice, spelling
):
    local, domain = alice.split("@")
    address = spelling.format(a=alice, local=local, domain=domain)
    code, reply = rcpt(mailserver, address)
    if code == 250:  # Postfix read it as alice's address: it must land there
        subject = unique_subject("Respelled")
        send(mailserver, address, subject)
        assert subject in wait_for(mailserver, alice, PASSWORD, subject)
    else:
        assert 500 <= code < 600, reply


@pytest.mark.parametrize(
    "local",
    [
        "ålice",
        "alice\x00",
        "al\x00ice",
        "alice' OR '1'='1",
        "x'; DROP VIEW mailserver_mailboxes; --",
        'alice"',
    ],
)
def test_odd_and_hostile_addresses_are_refused_at_rcpt_and_cannot_log_in(mailserver, alice, local):
    domain = alice.split("@")[1]
    code, reply = rcpt(mailserver, f"{local}@{domain}")
    assert 500 <= code < 600, reply
    assert not can_log_in(mailserver, f"{local}@{domain}", PASSWORD)
    assert rcpt(mailserver, alice)[0] == 250  # the views are intact
    assert can_log_in(mailserver, alice, PASSWORD)


@pytest.mark.parametrize("address", ["ålice@{d}", "al\x00ice@{d}", "alice@{d}\x00", "a b@{d}"])
def test_the_panel_refuses_addresses_postfix_could_misread(admin_api, domain, address):
    answer = admin_api.post("/users", {"address": address.format(d=domain), "password": PASSWORD})
    assert answer.status in (400, 422), answer.body
