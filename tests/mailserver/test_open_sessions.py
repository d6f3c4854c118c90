"""Open IMAP sessions end as web sessions do (issue 21 item 7): when the panel changes a
mailbox's password, disables it or its sign-in, renames or deletes it, the mailbox's sessions
already open in Dovecot are disconnected by the mail host (mailserver.sessions: the panel
writes a request, the mail host runs `doveadm kick`), through the real private Dovecot."""

import pytest

from adminpanel import clock
from adminpanel.mailserver.end_sessions import KEEP, request_end
from adminpanel.mailserver.models import EndSessionsRequest, SessionsEnded
from tests.mailserver.mail import can_log_in, wait_until
from tests.mailserver.mail_data import PASSWORD, add_mailbox
from tests.mailserver.sessions import disconnected, open_sessions

NEW_PASSWORD = "Mailbox-Linen-Meadow-64"

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    "change",
    [
        {"password": NEW_PASSWORD},
        {"active": False},
        {"sign_in_allowed": False},
        {"address": "renamed"},
        "delete",
    ],
    ids=["password", "deactivated", "sign-in-off", "renamed", "deleted"],
)
def test_a_change_in_the_panel_ends_the_mailboxs_open_imap_sessions(
    mailserver, admin_api, domain, change
):
    address, other = f"reader@{domain}", f"bystander@{domain}"
    mailbox = add_mailbox(admin_api, address)["id"]
    add_mailbox(admin_api, other)
    with open_sessions([(mailserver, address), (mailserver, other)], PASSWORD) as sessions:
        session, bystander = sessions
        if change == "delete":
            assert admin_api.delete(f"/users/{mailbox}").status == 204
        else:
            if "address" in change:
                change = {"address": f"renamed@{domain}"}
            assert admin_api.patch(f"/users/{mailbox}", change).status == 200, change

        assert wait_until(lambda: disconnected(session))
        assert not disconnected(bystander)  # another mailbox's session goes on
    if change == {"password": NEW_PASSWORD}:
        assert can_log_in(mailserver, address, NEW_PASSWORD)
        assert not can_log_in(mailserver, address, PASSWORD)


def test_a_local_part_with_wildcard_characters_never_ends_another_mailboxs_sessions(
    mailserver, admin_api, domain
):
    """doveadm kick reads * and ? as wildcards: a change of "a*z" must not disconnect "abcz".
    (Dovecot's default auth_username_chars keeps "a*z" itself from signing in at all.)"""
    mailbox = add_mailbox(admin_api, f"a*z@{domain}")["id"]
    add_mailbox(admin_api, f"abcz@{domain}")
    with open_sessions([(mailserver, f"abcz@{domain}")], PASSWORD) as (bystander,):
        assert admin_api.patch(f"/users/{mailbox}", {"password": NEW_PASSWORD}).status == 200
        # The request was carried out by this mail host.
        assert wait_until(
            lambda: SessionsEnded.objects.filter(host=mailserver.mail_host_name).exists()
        )
        assert not disconnected(bystander)


def test_requests_are_forgotten_after_a_day_whichever_hosts_carried_them_out(db):
    """No request is ever "done by all": each mail host records its own, so the panel forgets
    requests by age, with the records of every host that carried them out."""
    old = EndSessionsRequest.objects.create(
        address="old@example.com", requested_at=clock.now() - KEEP - KEEP / 24
    )
    SessionsEnded.objects.create(request_id=old.pk, host="mx1", ended_at=clock.now())
    recent = EndSessionsRequest.objects.create(
        address="recent@example.com", requested_at=clock.now()
    )
    SessionsEnded.objects.create(request_id=recent.pk, host="mx1", ended_at=clock.now())
    request_end("new@example.com")
    assert sorted(EndSessionsRequest.objects.values_list("address", flat=True)) == [
        "new@example.com",
        "recent@example.com",
    ]
    assert list(SessionsEnded.objects.values_list("request_id", flat=True)) == [recent.pk]
