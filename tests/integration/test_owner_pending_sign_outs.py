"""My mailbox → Sessions → Sign out all other sessions ends an owner's half-finished sign-in too
(a password step still waiting at the 2FA pop-up), as Security → Sessions does for accounts
(SPEC §12, §14): whoever typed the password elsewhere must start again."""

import pytest
from django.test import Client

from adminpanel.audit.models import Event
from adminpanel.mail import services as mail
from adminpanel.mail.models import Mailbox
from adminpanel.owners import sessions
from adminpanel.owners.models import SignOuts
from tests.factors import TwoFactor
from tests.owners import (
    OWNER_PASSWORD,
    owner_log_in,
    owner_signed_in,
    owner_verify,
    owner_with_2fa,
)

pytestmark = pytest.mark.django_db

ADDRESS = "ann@owners.example"


@pytest.fixture
def box(admin) -> Mailbox:
    mail.create_domain(admin, name="owners.example")
    return mail.create_mailbox(admin, address=ADDRESS, password=OWNER_PASSWORD)


@pytest.fixture
def ann_2fa(box, clock) -> TwoFactor:
    return owner_with_2fa(box, clock)


def at_the_pop_up() -> Client:
    client = Client()
    assert owner_log_in(client, ADDRESS).url == "/mailbox/login"  # the password step passed
    return client


def signed_in_with_code(ann_2fa: TwoFactor) -> Client:
    client = at_the_pop_up()
    assert owner_verify(client, ann_2fa.next_code()).url == "/mailbox/"
    return client


def test_a_pending_sign_in_ends_with_sign_out_all_other_sessions(ann_2fa):
    owner, stranger = signed_in_with_code(ann_2fa), at_the_pop_up()
    assert owner.post("/mailbox/sessions/sign-out-others").status_code == 302
    response = owner_verify(stranger, ann_2fa.next_code())
    assert response.url == "/mailbox/login"
    assert not owner_signed_in(stranger)
    assert owner_signed_in(owner)
    ended = Event.objects.get(event="web_login_2fa_not_completed")
    assert ended.details["reason"] == "signed_out" and ended.actor_name == ADDRESS


def test_the_ended_pop_up_says_to_start_again(ann_2fa):
    owner, stranger = signed_in_with_code(ann_2fa), at_the_pop_up()
    owner.post("/mailbox/sessions/sign-out-others")
    page = stranger.get("/mailbox/login").content.decode()
    assert "This sign-in was ended." in page
    assert "Two-factor authentication</h2>" not in page  # no pop-up: the password again


def test_a_pending_sign_in_begun_after_the_sign_out_goes_on(ann_2fa):
    owner = signed_in_with_code(ann_2fa)
    owner.post("/mailbox/sessions/sign-out-others")
    later = at_the_pop_up()
    assert owner_verify(later, ann_2fa.next_code()).url == "/mailbox/"


def test_signing_out_one_owner_leaves_another_owners_pending_sign_in(ann_2fa, admin, clock):
    other = mail.create_mailbox(admin, address="bob@owners.example", password=OWNER_PASSWORD)
    bob_2fa = owner_with_2fa(other, clock)
    bob_pending = Client()
    assert owner_log_in(bob_pending, "bob@owners.example").url == "/mailbox/login"
    signed_in_with_code(ann_2fa).post("/mailbox/sessions/sign-out-others")
    assert owner_verify(bob_pending, bob_2fa.code()).url == "/mailbox/"


def test_each_end_of_other_sessions_counts_once_in_one_statement(
    box, admin, django_assert_num_queries
):
    """The counter a pending sign-in remembers: a mailbox's row is made at its first sign-out
    and moves by one at each (one upsert), another mailbox's count stays."""
    other = mail.create_mailbox(admin, address="bob@owners.example", password=OWNER_PASSWORD)
    assert sessions.sign_outs(box) == 0
    for expected in (1, 2, 3):
        with django_assert_num_queries(1):
            sessions.OWNERS.end_pending_logins(box)
        assert sessions.sign_outs(box) == expected
    sessions.end_other_sessions(box, reason="signed_out")
    assert sessions.sign_outs(box) == 4
    assert sessions.sign_outs(other) == 0
    assert list(SignOuts.objects.values_list("mailbox_id", "count")) == [(box.pk, 4)]
