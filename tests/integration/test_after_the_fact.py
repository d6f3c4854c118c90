"""SPEC §12 "After the fact": Home tells about the last sign-in and what happened since."""

import re

import pytest
from django.test import Client

from adminpanel.audit.catalogue import AuditEvent
from tests.integration.panel import log_in, text, verify

pytestmark = pytest.mark.django_db

WRONG = "wrong-password-123"


def visible(response) -> str:
    """The page's text without its tags."""
    return re.sub(r"<[^>]+>", "", text(response))


def sign_in(ip: str = "127.0.0.1") -> Client:
    client = Client(REMOTE_ADDR=ip)
    assert log_in(client).url == "/"
    return client


def test_the_first_sign_in_says_so(alice):
    assert "This is the first sign-in recorded for this account." in text(sign_in().get("/"))


def test_home_shows_the_last_sign_in_time_and_ip(alice, clock):
    sign_in("192.0.2.44")
    before = clock()
    clock.advance(hours=3)
    page = visible(sign_in("198.51.100.2").get("/"))
    assert f"Before this one: {before:%Y-%m-%d %H:%M} UTC from 192.0.2.44." in page


def test_home_counts_failed_attempts_since_the_last_sign_in(alice, clock):
    sign_in()
    clock.advance(minutes=5)
    for ip in ("203.0.113.1", "203.0.113.2", "203.0.113.3"):
        log_in(Client(REMOTE_ADDR=ip), "alice", WRONG)
    clock.advance(minutes=5)
    page = text(sign_in().get("/"))
    assert "3 failed attempts to sign in since then: 3 wrong passwords." in page


def test_failures_before_the_last_sign_in_are_not_counted_again(alice, clock):
    log_in(Client(), "alice", WRONG)
    clock.advance(minutes=1)
    sign_in()
    clock.advance(minutes=1)
    assert "No failed attempts to sign in since then." in text(sign_in().get("/"))


def test_failed_codes_count_too(alice_2fa):
    sign_in_2fa(alice_2fa)
    alice_2fa.clock.advance(seconds=1)
    client = Client()
    log_in(client)
    verify(client, alice_2fa.wrong_code())
    page = text(sign_in_2fa(alice_2fa).get("/"))
    assert "1 failed attempt to sign in since then: 1 wrong 2FA code." in page


def sign_in_2fa(alice_2fa, challenge: str | None = None) -> Client:
    client = Client()
    log_in(client)
    assert verify(client, challenge or alice_2fa.next_code()).url == "/"
    return client


def test_after_a_recovery_code_home_says_how_many_are_left_and_links_new_ones(alice_2fa):
    client = sign_in_2fa(alice_2fa, alice_2fa.recovery_codes[0])
    page = text(client.get("/"))
    assert "You signed in with a recovery code" in page
    assert "That code is used up; you have 9 left." in page
    assert 'href="/security/2fa/recovery-codes">Generate new recovery codes</a>' in page


def test_a_sign_in_with_a_code_shows_no_recovery_warning(alice_2fa):
    assert "You signed in with a recovery code" not in text(sign_in_2fa(alice_2fa).get("/"))


def test_failed_attempts_are_one_sentence_grouped_in_words(alice, clock):
    """Issue 21 item 10: one sentence (one line of the status, not flex columns), each kind
    counted once and in words: "possibly cloned key", never the log's machine name."""
    from adminpanel import audit
    from adminpanel.accounts.models import Account

    sign_in()
    clock.advance(minutes=5)
    for ip in ("203.0.113.1", "203.0.113.2"):
        log_in(Client(REMOTE_ADDR=ip), "alice", WRONG)
    audit.record(AuditEvent.WEBAUTHN_COUNTER_REGRESSED, actor=Account.objects.get(username="alice"))
    clock.advance(minutes=5)
    page = text(sign_in().get("/"))
    status = re.search(
        r'<p class="status warn"><span class="dot" aria-hidden="true"></span>'
        r"<span>(.*?)</span></p>",
        page,
        re.S,
    )
    assert status, "the status is the dot and one span of text"
    sentence = re.sub(r"<[^>]+>", "", status.group(1))
    assert sentence.startswith(
        "3 failed attempts to sign in since then: 2 wrong passwords and 1 possibly cloned key."
    )
    assert "counter_regressed" not in page
