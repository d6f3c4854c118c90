"""An IMAP process serves many sessions one after another (Dovecot's own tuning advice; the
login processes, which read passwords, still serve one connection each): what one mailbox's
session showed never shows in the next one's, whichever mailbox came before it."""

import pytest

from tests.mailserver.imap_processes import assert_served_in_turn_apart, two_inboxes
from tests.mailserver.mail import send, wait_for
from tests.mailserver.mail_data import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def test_sessions_of_two_mailboxes_in_turn_each_see_only_their_own_mail(
    mailserver, admin_api, domain
):
    def deliver(address: str, subject: str) -> None:
        send(mailserver, address, subject)
        assert wait_for(mailserver, address, PASSWORD, subject) == [subject]

    assert_served_in_turn_apart(mailserver, two_inboxes(admin_api, domain, deliver))
