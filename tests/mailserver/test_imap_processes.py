"""An IMAP process serves many sessions one after another (Dovecot's own tuning advice; the
login processes, which read passwords, still serve one connection each): what one mailbox's
session showed never shows in the next one's, whichever mailbox came before it."""

import pytest

from tests.mailserver.imap_processes import sessions_in_turn
from tests.mailserver.mail import send, unique_subject, wait_for
from tests.mailserver.mail_data import PASSWORD, add_mailbox

pytestmark = pytest.mark.django_db(transaction=True)


def test_sessions_of_two_mailboxes_in_turn_each_see_only_their_own_mail(
    mailserver, admin_api, domain
):
    inboxes = {}
    for name in ("first", "second"):
        address = f"{name}@{domain}"
        add_mailbox(admin_api, address)
        inboxes[address] = [unique_subject(f"For {name}")]
        send(mailserver, address, inboxes[address][0])
        assert wait_for(mailserver, address, PASSWORD, inboxes[address][0]) == inboxes[address]

    served = sessions_in_turn(mailserver, [(a, PASSWORD) for a in inboxes], rounds=10)

    assert all(session.subjects == inboxes[session.address] for session in served)
    # The processes were reused: far fewer than the sessions they served.
    assert len({session.pid for session in served}) < len(served) / 2
