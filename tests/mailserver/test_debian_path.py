"""The README's "On a Debian mail server" path, not only the private trial: Postfix runs from
Debian's stock main.cf (the package's main.cf.debian plus what its postinst writes for "Internet
Site"), with the generated settings applied line by line with `postconf -e`, as step 3 says.
The client speaks as an outside sender (XCLIENT), since loopback is in Debian's mynetworks."""

import smtplib

import pytest

from adminpanel.mailserver.instance import PrivateMailServer
from tests.mailserver.debian import debian_stock_main_cf
from tests.mailserver.mail import SENDER, message, submission, submit, unique_subject, wait_until
from tests.mailserver.servers import private_mail_server

OUTSIDE_CLIENT = "203.0.113.9"  # TEST-NET-3: not in any mynetworks
PASSWORD = "Mailbox-Cobalt-Harbor-27"
OPERATORS_OWN = (
    "smtpd_recipient_restrictions = check_sender_access "
    "inline:{ { spammer@bad.test = REJECT The operator says no } }\n"
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def debian_postfix(django_db_setup, django_db_blocker, outside):
    with private_mail_server(
        django_db_blocker,
        "adminpanel-debian-path-test-",
        # An operator's own restriction, set before the README's steps: it must stay.
        stock_main_cf=debian_stock_main_cf() + OPERATORS_OWN,
        relayhost=f"127.0.0.1:{outside.port}",
    ) as server:
        yield server


def rcpt_from_outside(
    server: PrivateMailServer, address: str, sender: str = SENDER
) -> tuple[int, str]:
    """Postfix's answer to RCPT TO from a client outside mynetworks."""
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=30) as smtp:
        smtp.ehlo()
        code, reply = smtp.docmd("XCLIENT", f"ADDR={OUTSIDE_CLIENT} NAME=mx.outside.test")
        assert code == 220, reply
        smtp.ehlo("mx.outside.test")
        smtp.mail(sender)
        code, reply = smtp.rcpt(address)
        smtp.rset()
    return code, reply.decode(errors="replace")


def test_the_stock_relay_rule_is_debians_defer(debian_postfix):
    """What the test starts from: without the generated settings Debian answers 454."""
    assert "defer_unauth_destination" in debian_stock_main_cf()


def test_an_outside_sender_to_a_domain_the_panel_does_not_have_is_refused_for_good(
    debian_postfix, admin_api
):
    code, reply = rcpt_from_outside(debian_postfix, "someone@not-in-the-panel.example")
    assert 500 <= code < 600, (code, reply)


def test_an_outside_sender_to_an_inactive_domain_is_refused_for_good(
    debian_postfix, admin_api, domain
):
    assert (
        admin_api.post("/users", {"address": f"alice@{domain}", "password": PASSWORD}).status == 201
    )
    assert rcpt_from_outside(debian_postfix, f"alice@{domain}")[0] == 250
    found = admin_api.get("/domains", QUERY_STRING=f"search={domain}").body["items"][0]
    assert admin_api.patch(f"/domains/{found['id']}", {"active": False}).status == 200
    for address in [f"alice@{domain}", f"anyone@{domain}"]:
        code, reply = rcpt_from_outside(debian_postfix, address)
        assert 500 <= code < 600, (address, code, reply)


def test_vrfy_is_off_on_debians_postfix_too(debian_postfix, admin_api, domain):
    assert (
        admin_api.post("/users", {"address": f"alice@{domain}", "password": PASSWORD}).status == 201
    )
    with smtplib.SMTP("127.0.0.1", debian_postfix.smtp_port, timeout=30) as smtp:
        code, reply = smtp.verify(f"alice@{domain}")
    assert code == 502, reply


def test_a_login_sends_out_through_submission_on_debians_postfix(
    debian_postfix, outside, admin_api, domain
):
    """Debian's stock main.cf relays for mynetworks (loopback included); submission relays for
    a login only, and from its own addresses only."""
    alice = f"alice@{domain}"
    assert admin_api.post("/users", {"address": alice, "password": PASSWORD}).status == 201
    subject = unique_subject("Debian submission")
    submit(debian_postfix, alice, PASSWORD, to="erin@elsewhere.test", subject=subject)
    assert wait_until(lambda: any(m.subject == subject for m in outside.to("erin@elsewhere.test")))

    forged = message("erin@elsewhere.test", "Forged on Debian")
    forged.replace_header("From", f"bob@{domain}")
    with submission(debian_postfix) as smtp:
        smtp.login(alice, PASSWORD)
        with pytest.raises(smtplib.SMTPDataError) as refused:
            smtp.send_message(forged, from_addr=alice, to_addrs=["erin@elsewhere.test"])
    assert refused.value.smtp_code == 550


def test_a_loopback_client_in_debians_mynetworks_does_not_relay_through_submission(
    debian_postfix, admin_api, domain
):
    with submission(debian_postfix) as smtp:
        smtp.mail(f"alice@{domain}")
        code, reply = smtp.rcpt("erin@elsewhere.test")
    assert 500 <= code < 600, (code, reply)


def test_the_operators_own_restrictions_stay_after_the_panels(debian_postfix, admin_api, domain):
    assert (
        admin_api.post("/users", {"address": f"alice@{domain}", "password": PASSWORD}).status == 201
    )
    assert rcpt_from_outside(debian_postfix, f"alice@{domain}")[0] == 250
    code, reply = rcpt_from_outside(debian_postfix, f"alice@{domain}", "spammer@bad.test")
    assert code == 554 and "The operator says no" in reply, (code, reply)
    # The panel's own come first: an unknown address is refused as unknown, whoever sends.
    code, reply = rcpt_from_outside(debian_postfix, f"nobody@{domain}", "spammer@bad.test")
    assert code == 550, (code, reply)
