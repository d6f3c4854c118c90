"""Tags (`recipient_delimiter = +`, as in Debian's stock main.cf): mail to user+tag@domain is
mail for user@domain, on both databases, as with Postfix's own tables — delivered over LMTP to
the mailbox's INBOX and read over IMAP; what refuses user@domain refuses user+tag@domain."""

import pytest

from tests.mailserver.mail import rcpt, send, unique_subject, wait_for
from tests.mailserver.mail_data import PASSWORD, add_alias, add_mailbox, domain_id

pytestmark = pytest.mark.django_db(transaction=True)


def test_mail_to_a_tagged_address_reaches_the_mailbox(mailserver, admin_api, domain):
    add_mailbox(admin_api, f"alice@{domain}")
    subject = unique_subject("Tagged")
    send(mailserver, f"alice+news@{domain}", subject)
    assert subject in wait_for(mailserver, f"alice@{domain}", PASSWORD, subject)


def test_mail_to_a_tagged_alias_reaches_each_destination(mailserver, admin_api, domain):
    add_mailbox(admin_api, f"alice@{domain}")
    add_mailbox(admin_api, f"bob@{domain}")
    add_alias(admin_api, f"team@{domain}", [f"alice@{domain}", f"bob@{domain}"])
    subject = unique_subject("Tagged team")
    send(mailserver, f"Team+Weekly@{domain}", subject)
    assert subject in wait_for(mailserver, f"alice@{domain}", PASSWORD, subject)
    assert subject in wait_for(mailserver, f"bob@{domain}", PASSWORD, subject)


def test_a_tagged_unknown_address_goes_to_the_catch_all(mailserver, admin_api, domain):
    add_mailbox(admin_api, f"bob@{domain}")
    answer = admin_api.patch(
        f"/domains/{domain_id(admin_api, domain)}", {"catch_all": f"bob@{domain}"}
    )
    assert answer.status == 200, answer.body
    subject = unique_subject("Stray tagged")
    send(mailserver, f"nobody+x@{domain}", subject)
    assert subject in wait_for(mailserver, f"bob@{domain}", PASSWORD, subject)


def test_a_tagged_address_is_refused_where_the_address_is(mailserver, admin_api, domain):
    user = add_mailbox(admin_api, f"alice@{domain}")
    assert rcpt(mailserver, f"nobody+x@{domain}")[0] == 550
    assert admin_api.patch(f"/users/{user['id']}", {"active": False}).status == 200
    code, reply = rcpt(mailserver, f"alice+x@{domain}")
    assert 500 <= code < 600, reply


def test_a_full_mailbox_refuses_mail_to_its_tagged_address(mailserver, admin_api, domain):
    add_mailbox(admin_api, f"small@{domain}", quota_mb=1)
    first = unique_subject("Fits")
    send(mailserver, f"small@{domain}", first, size=700_000)
    assert first in wait_for(mailserver, f"small@{domain}", PASSWORD, first)
    with pytest.raises(Exception) as refused:
        send(mailserver, f"small+x@{domain}", unique_subject("Too much"), size=700_000)
    assert "552" in str(refused.value) and "Mailbox is full" in str(refused.value)
