"""SPEC §12 Notices by e-mail: what is mailed, when, to whom, and what a mail failure changes.

The notices go through the outbox and the sender to a real SMTP server (aiosmtpd on a loopback
port), and the tests read what arrived.
"""

import email.errors
import io
import json
import threading
from datetime import timedelta

import pyotp
import pytest
from django.core.mail import EmailMessage
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test import Client

from adminpanel import audit
from adminpanel import clock as panel_clock
from adminpanel.accounts import profile, services
from adminpanel.accounts.models import Account
from adminpanel.audit.catalogue import AuditEvent
from adminpanel.audit.models import Event
from adminpanel.errors import Refused
from adminpanel.mail import services as mail_services
from adminpanel.notices import services as sender
from adminpanel.notices.models import Notice
from adminpanel.subadmins.services import reset_subadmin_2fa, update_subadmin
from adminpanel.twofactor import services as twofactor
from adminpanel.twofactor.models import WebAuthnKey
from testbed.postgres import free_port
from tests.integration.keys import ORIGIN, add_key, options
from tests.integration.panel import (
    PASSWORD,
    log_in,
    log_in_admin,
    mailed_links,
    make_admin,
    make_subadmin,
    verify,
)
from tests.integration.setup_flow import begin_setup, save_setup
from tests.smtp import SmtpServer
from tests.softkey import SoftKey

pytestmark = pytest.mark.django_db

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0"
HOME_IP = "203.0.113.7"
ALICE = "alice@example.com"


@pytest.fixture(scope="module")
def smtp_server():
    with SmtpServer() as server:
        yield server


def use_mail_server(settings, host: str, port: int, user: str = "", password: str = "") -> None:
    """What ADMINPANEL_SMTP_URL sets (pytest-django swaps in a memory backend: undone here)."""
    settings.NOTICES_ENABLED = True
    settings.EMAIL_BACKEND = "adminpanel.notices.mailer.SmtpBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = host, port
    settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD = user, password
    settings.EMAIL_USE_SSL = False
    settings.DEFAULT_FROM_EMAIL = "Admin Panel <panel@example.com>"


@pytest.fixture
def inbox(settings, smtp_server) -> SmtpServer:
    use_mail_server(settings, "127.0.0.1", smtp_server.port)
    smtp_server.mails.clear()
    smtp_server.answer = None
    return smtp_server


def deliver() -> None:
    sender.send_due()


def subjects(server: SmtpServer, address: str = ALICE) -> list[str]:
    return [m.subject for m in server.to(address)]


def with_email(account, address: str = ALICE):
    """The account's notice e-mail, set as its owner does: Save, then open the mailed link
    (its mail is dropped, so that tests count only their own)."""
    with mailed_links() as links:
        profile.update_profile(account, email=address, ip=HOME_IP)
    token = links[-1].rstrip("/").rsplit("/", 1)[-1]
    profile.confirm_email_change(account, token, now=panel_clock.now())
    Notice.objects.filter(event="email_change_requested").delete()
    return account


@pytest.fixture
def browser(alice, inbox) -> Client:
    """Alice's browser at home, logged in (before she set her e-mail)."""
    client = Client(REMOTE_ADDR=HOME_IP, HTTP_USER_AGENT=FIREFOX)
    assert log_in(client).url == "/"
    with_email(alice)
    return client


def enable_on_pages(client: Client, clock) -> str:
    """Security → 2FA → Enabled → Next → the code: 2FA on. Returns the key."""
    _, key, setup = begin_setup(client)
    assert save_setup(client, setup, pyotp.TOTP(key).at(clock())).status_code == 200
    return key


# --- what a notice says -----------------------------------------------------------------------


def test_enabling_2fa_is_mailed_with_what_when_ip_browser_and_what_to_do(browser, inbox, clock):
    enable_on_pages(browser, clock)
    deliver()
    [mail] = inbox.to(ALICE)
    assert mail.subject == "[Admin Panel] Two-factor authentication was turned on"
    assert mail.message["From"] == "Admin Panel <panel@example.com>"
    assert "Two-factor authentication was turned on for your account alice." in mail.text
    assert f"When:     {clock():%Y-%m-%d %H:%M:%S} UTC" in mail.text
    assert f"IP:       {HOME_IP}" in mail.text
    assert "Browser:  Firefox on Linux\r\n\r\nIf this was you" in mail.text
    assert FIREFOX not in mail.text  # only as parsed: the header is the sender's own words
    assert "If it was not you: Someone who knows your password" in mail.text
    assert "Ask the Admin of this panel to reset two-factor authentication" in mail.text


def test_a_notice_holds_no_secret(browser, inbox, clock, alice):
    key = enable_on_pages(browser, clock)
    clock.advance(seconds=30)
    codes = twofactor.regenerate_recovery_codes(alice, pyotp.TOTP(key).at(clock()), now=clock())
    deliver()
    mails = inbox.to(ALICE)
    assert len(mails) == 2
    for mail in mails:
        raw = mail.message.as_string()
        assert key not in raw and key.lower() not in raw
        assert PASSWORD not in raw
        for code in codes:
            assert code not in raw and code.replace("-", "") not in raw


def test_disabling_2fa_is_mailed(alice_2fa, inbox, clock):
    with_email(alice_2fa.account)
    twofactor.disable(alice_2fa.account, alice_2fa.code(), now=clock())
    deliver()
    assert subjects(inbox) == ["[Admin Panel] Two-factor authentication was turned off"]


def test_the_admins_reset_of_2fa_is_mailed_to_the_subadmin(inbox, enable_2fa):
    admin = make_admin()
    sub = with_email(make_subadmin(admin, "sub"), "sub@example.com")
    enable_2fa(sub)
    Notice.objects.all().delete()
    reset_subadmin_2fa(admin, sub)
    deliver()
    [mail] = inbox.to("sub@example.com")
    assert mail.subject == "[Admin Panel] Your two-factor authentication was reset"
    assert "The Admin (admin) reset two-factor authentication for your account sub" in mail.text


def test_the_operators_reset_of_2fa_is_mailed_too(alice_2fa, inbox):
    with_email(alice_2fa.account)
    twofactor.reset(alice_2fa.account, actor_name="operator (command line)")
    deliver()
    [mail] = inbox.to(ALICE)
    assert "The server's operator reset two-factor authentication" in mail.text
    assert "IP:       none (the server's command line)" in mail.text


def test_a_used_recovery_code_is_mailed_with_how_many_are_left(alice_2fa, inbox, clock):
    with_email(alice_2fa.account)
    twofactor.verify_code(alice_2fa.account, alice_2fa.recovery_codes[0], now=clock())
    deliver()
    [mail] = inbox.to(ALICE)
    assert mail.subject == "[Admin Panel] A recovery code was used"
    assert "was used to sign in. Each works only once: 9 left." in mail.text


def test_regenerated_recovery_codes_are_mailed(alice_2fa, inbox, clock):
    with_email(alice_2fa.account)
    twofactor.regenerate_recovery_codes(alice_2fa.account, alice_2fa.code(), now=clock())
    deliver()
    assert subjects(inbox) == ["[Admin Panel] New recovery codes were generated"]


def test_a_password_change_is_mailed(alice, inbox):
    with_email(alice)
    services.change_own_password(alice, PASSWORD, "another-long-passphrase-7")
    deliver()
    assert subjects(inbox) == ["[Admin Panel] Your password was changed"]


def test_a_password_set_by_the_admin_is_mailed_to_the_subadmin(inbox):
    admin = make_admin()
    sub = with_email(make_subadmin(admin, "sub"), "sub@example.com")
    update_subadmin(admin, sub, password="a-new-long-passphrase-9")
    update_subadmin(admin, sub, active=False)  # no password: no notice
    deliver()
    [mail] = inbox.to("sub@example.com")
    assert "The Admin (admin) set a new password for your account sub." in mail.text


def test_throttled_codes_are_mailed_once_per_wait(alice_2fa, inbox, clock):
    with_email(alice_2fa.account)
    for _ in range(5):
        with pytest.raises(Refused):
            twofactor.verify_code(alice_2fa.account, alice_2fa.wrong_code(), now=clock())
    for _ in range(3):  # refused unchecked while waiting: no new wait, no new notice
        with pytest.raises(Refused):
            twofactor.verify_code(alice_2fa.account, alice_2fa.code(), now=clock())
    deliver()
    [mail] = inbox.to(ALICE)
    assert mail.subject == "[Admin Panel] Wrong codes were entered for your account"
    assert "5 wrong codes in a row" in mail.text
    assert "refused for 1 minute. Recovery codes wait too." in mail.text


def test_a_sign_in_from_an_ip_not_seen_in_90_days_is_mailed(alice, inbox, clock):
    with_email(alice)
    assert log_in(Client(REMOTE_ADDR="198.51.100.20")).url == "/"
    deliver()
    [mail] = inbox.to(ALICE)
    assert mail.subject == "[Admin Panel] New sign-in from 198.51.100.20"
    assert "has not used in the last 90 days" in mail.text


@pytest.mark.parametrize(("days", "notices"), [(89, 1), (91, 2)])
def test_a_sign_in_from_an_ip_seen_in_the_last_90_days_is_not_mailed_again(
    alice, inbox, clock, days, notices
):
    with_email(alice)
    assert log_in(Client(REMOTE_ADDR="198.51.100.20")).url == "/"
    clock.advance(days=days)
    assert log_in(Client(REMOTE_ADDR="198.51.100.20")).url == "/"
    deliver()
    assert len(inbox.to(ALICE)) == notices


def test_a_2fa_sign_in_from_a_new_ip_is_mailed_once(alice_2fa, inbox, clock):
    with_email(alice_2fa.account)
    client = Client(REMOTE_ADDR="198.51.100.21")
    assert log_in(client).url == "/login"
    assert verify(client, alice_2fa.code()).url == "/"
    deliver()
    assert subjects(inbox) == ["[Admin Panel] New sign-in from 198.51.100.21"]


@pytest.mark.parametrize(
    ("event", "subject", "sentence"),
    [
        (
            AuditEvent.WEBAUTHN_KEY_ADDED,
            "A security key was added",
            "A security key “YubiKey 5” was added",
        ),
        (
            AuditEvent.WEBAUTHN_KEY_REMOVED,
            "A security key was removed",
            "The security key “YubiKey 5” was removed",
        ),
    ],
)
def test_security_key_events_are_mailed(alice, inbox, event, subject, sentence):
    with_email(alice)
    with transaction.atomic():  # as the WebAuthn service records them
        audit.record(event, actor=alice, name="YubiKey 5")
    deliver()
    [mail] = inbox.to(ALICE)
    assert mail.subject == f"[Admin Panel] {subject}"
    assert sentence in mail.text


def test_replacing_and_removing_the_app_are_mailed(alice_2fa, inbox, clock):
    alice = with_email(alice_2fa.account)
    setup = twofactor.start_setup(alice, now=clock(), replace=True)
    new_code = pyotp.TOTP(twofactor.setup_key(setup)).at(clock())
    twofactor.replace_app(alice, setup.pk, new_code, now=clock())
    WebAuthnKey.objects.create(person=alice.person, name="k", credential_id="c", public_key=b"k")
    twofactor.remove_app(alice)
    deliver()
    assert subjects(inbox) == [
        "[Admin Panel] Your authenticator app was replaced",
        "[Admin Panel] Your authenticator app was removed",
    ]
    assert "The codes of the earlier app no longer work" in inbox.to(ALICE)[0].text


def test_a_policy_change_is_mailed_to_the_admin(inbox):
    admin = with_email(make_admin(), "owner@example.com")
    client = log_in_admin()
    assert client.post("/security/policy", {"require_2fa_for_subadmins": "on"}).status_code == 302
    assert client.post("/security/policy", {}).status_code == 302
    deliver()
    mails = [m for m in inbox.to("owner@example.com") if "sign-in" not in m.subject]
    assert [m.subject for m in mails] == ["[Admin Panel] The 2FA policy was changed"] * 2
    assert "Require 2FA for Sub-Admins was turned on" in mails[0].text
    assert "Require 2FA for Sub-Admins was turned off" in mails[1].text
    assert admin.email == "owner@example.com"


def test_keys_added_and_removed_on_the_pages_are_mailed(browser, inbox):
    add_key(browser, SoftKey(ORIGIN))
    add_key(browser, SoftKey(ORIGIN), "Backup key")
    backup = WebAuthnKey.objects.get(name="Backup key")
    assert browser.post(f"/security/2fa/keys/{backup.pk}/remove").url == "/security/2fa"
    deliver()
    assert sorted(subjects(inbox)) == [
        "[Admin Panel] A security key was added",
        "[Admin Panel] A security key was added",
        "[Admin Panel] A security key was removed",
        "[Admin Panel] Two-factor authentication was turned on",
    ]


def test_new_recovery_codes_confirmed_with_a_key_are_mailed(browser, inbox):
    key = SoftKey(ORIGIN)
    add_key(browser, key)
    deliver()
    inbox.mails.clear()
    answer = key.get(options(browser, "regenerate"))
    browser.post("/security/2fa/recovery-codes/key", {"credential": json.dumps(answer)})
    deliver()
    [mail] = inbox.to(ALICE)
    assert mail.subject == "[Admin Panel] New recovery codes were generated"
    assert f"IP:       {HOME_IP}" in mail.text


# --- to whom, and when not -----------------------------------------------------------------


def test_an_account_without_an_email_gets_no_notice(alice, inbox):
    services.change_own_password(alice, PASSWORD, "another-long-passphrase-7")
    assert not Notice.objects.exists()


def test_without_an_smtp_server_no_notice_is_queued(alice, settings):
    with_email(alice)
    settings.NOTICES_ENABLED = False
    services.change_own_password(alice, PASSWORD, "another-long-passphrase-7")
    assert not Notice.objects.exists()


def test_a_notice_is_written_in_the_same_transaction_as_the_change(alice, inbox):
    with_email(alice)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.change_own_password(alice, PASSWORD, "another-long-passphrase-7")
        assert Notice.objects.count() == 1
        raise RuntimeError("the change fails after it was recorded")
    assert not Notice.objects.exists()


def test_a_notice_is_sent_once(alice, inbox):
    with_email(alice)
    services.change_own_password(alice, PASSWORD, "another-long-passphrase-7")
    deliver()
    deliver()
    assert len(inbox.to(ALICE)) == 1
    notice = Notice.objects.get()
    assert (notice.status, notice.attempts) == ("sent", 1)
    [sent] = Event.objects.filter(event="notice_sent")
    assert sent.details["to"] == ALICE
    assert sent.details["about"] == "password_changed"


# --- a mail server that is down or refuses ------------------------------------------------


def closed_port() -> int:
    return free_port()  # nothing listens there


def test_a_mail_server_that_is_down_changes_nothing_but_the_logged_fate(
    alice, settings, clock, smtp_server
):
    use_mail_server(settings, "127.0.0.1", closed_port())
    with_email(alice)
    services.change_own_password(alice, PASSWORD, "another-long-passphrase-7")
    deliver()
    alice.refresh_from_db()
    assert alice.check_password("another-long-passphrase-7")  # the change stands
    [deferred] = Event.objects.filter(event="notice_deferred")
    assert "Connection refused" in deferred.details["error"]
    assert Notice.objects.get().status == "pending"


def test_a_failed_notice_is_retried_with_backoff_until_it_is_sent(
    alice, settings, clock, smtp_server
):
    use_mail_server(settings, "127.0.0.1", closed_port())
    with_email(alice)
    services.change_own_password(alice, PASSWORD, "another-long-passphrase-7")
    start = clock()
    deliver()  # attempt 1 fails: the next in 1 minute
    clock.advance(seconds=59)
    deliver()  # not due yet
    clock.advance(seconds=1)
    deliver()  # attempt 2 fails: the next in 2 minutes
    waits = [
        e.details["retry_at"] for e in Event.objects.filter(event="notice_deferred").order_by("id")
    ]
    assert waits == [
        (start + timedelta(minutes=1)).isoformat(),
        (start + timedelta(minutes=3)).isoformat(),
    ]
    use_mail_server(settings, "127.0.0.1", smtp_server.port)
    smtp_server.mails.clear()
    smtp_server.answer = None
    clock.advance(minutes=2)
    deliver()
    assert subjects(smtp_server) == ["[Admin Panel] Your password was changed"]
    assert Notice.objects.get().attempts == 3


def test_a_temporary_refusal_is_retried(alice, inbox, clock):
    with_email(alice)
    services.change_own_password(alice, PASSWORD, "another-long-passphrase-7")
    inbox.answer = "451 4.3.0 Mailbox busy, try again later"
    deliver()
    [deferred] = Event.objects.filter(event="notice_deferred")
    assert deferred.details["error"] == "451 4.3.0 Mailbox busy, try again later"
    inbox.answer = None
    clock.advance(minutes=1)
    deliver()
    assert len(inbox.to(ALICE)) == 1


def test_a_permanent_refusal_is_given_up_at_once_and_logged(alice, inbox, clock):
    with_email(alice)
    services.change_own_password(alice, PASSWORD, "another-long-passphrase-7")
    inbox.answer = "550 5.7.1 Message rejected"
    deliver()
    clock.advance(hours=2)
    deliver()
    assert Notice.objects.get().status == "failed"
    [failed] = Event.objects.filter(event="notice_failed")
    assert failed.details["error"] == "550 5.7.1 Message rejected"
    assert not Event.objects.filter(event="notice_deferred").exists()


def test_a_notice_is_given_up_after_10_attempts(alice, settings, clock):
    use_mail_server(settings, "127.0.0.1", closed_port())
    with_email(alice)
    services.change_own_password(alice, PASSWORD, "another-long-passphrase-7")
    for _ in range(12):
        deliver()
        clock.advance(hours=1)
    notice = Notice.objects.get()
    assert (notice.status, notice.attempts) == ("failed", 10)
    assert Event.objects.filter(event="notice_deferred").count() == 9
    assert Event.objects.filter(event="notice_failed").count() == 1


# --- encryption and login -------------------------------------------------------------------


def test_starttls_is_used_when_offered_and_then_the_login(alice, settings, monkeypatch):
    with SmtpServer(tls=True, login=("notices", "smtp-secret-Walrus-42")) as server:
        monkeypatch.setenv("SSL_CERT_FILE", str(server.certificate))  # trust its certificate
        use_mail_server(settings, server.host, server.port, "notices", "smtp-secret-Walrus-42")
        with_email(alice)
        services.change_own_password(alice, PASSWORD, "another-long-passphrase-7")
        deliver()
        [mail] = server.to(ALICE)
    assert mail.over_tls
    assert mail.login == "notices"
    logged = " ".join(str(e.details) for e in Event.objects.all())
    assert "smtp-secret-Walrus-42" not in logged


def test_a_certificate_that_does_not_verify_is_refused_and_retried(alice, settings):
    with SmtpServer(tls=True) as server:  # its certificate is trusted by nobody
        use_mail_server(settings, server.host, server.port)
        with_email(alice)
        services.change_own_password(alice, PASSWORD, "another-long-passphrase-7")
        deliver()
        assert not server.received()
    [deferred] = Event.objects.filter(event="notice_deferred")
    assert "CERTIFICATE_VERIFY_FAILED" in deferred.details["error"]


# --- many senders ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_senders_running_at_once_send_each_notice_once(inbox, make_account):
    people = [with_email(make_account(f"user{i}"), f"user{i}@example.com") for i in range(12)]
    for person in people:
        twofactor.reset(person, actor_name="operator (command line)")
    barrier = threading.Barrier(4)

    def send() -> None:
        try:
            barrier.wait()
            sender.send_due()
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for i in range(12):
        assert len(inbox.to(f"user{i}@example.com")) == 1
    assert Event.objects.filter(event="notice_sent").count() == 12
    assert set(Notice.objects.values_list("attempts", flat=True)) == {1}


def test_a_new_email_address_is_told_to_the_old_one_once_its_link_is_opened(browser, inbox):
    with mailed_links() as links:
        assert browser.post("/security/profile", {"email": "mallory@example.net"}).status_code
    deliver()
    [link_mail] = inbox.to("mallory@example.net")
    assert link_mail.subject == "[Admin Panel] Confirm this address for notices"
    assert f"http://testserver{links[0]}" in link_mail.text
    assert not inbox.to(ALICE)  # nothing has changed yet
    assert browser.get(links[0]).url == "/security/profile"
    deliver()
    [mail] = inbox.to(ALICE)
    assert mail.subject == "[Admin Panel] Your notices now go to another address"
    assert "was changed to mallory@example.net" in mail.text
    assert len(inbox.to("mallory@example.net")) == 1


def test_a_first_email_address_gets_no_such_notice(alice, inbox):
    with_email(alice)
    deliver()
    assert not inbox.received()


def test_twenty_quick_address_changes_mail_at_most_three_third_parties(browser, inbox, clock):
    for n in range(20):
        browser.post("/security/profile", {"email": f"victim{n}@example.org"})
    deliver()
    # Three a hour, the first of which set alice@example.com (the fixture): two third parties.
    assert len([m for m in inbox.received() if m.rcpt_tos != [ALICE]]) == 2
    page = browser.post("/security/profile", {"email": "victim99@example.org"})
    assert "You asked for 3 new addresses in the last hour: try again in 60 minutes." in (
        page.content.decode()
    )


def test_a_forged_user_agent_is_not_quoted_in_a_notice(alice, inbox):
    with_email(alice)
    phishing = "URGENT: your account is locked, call +1-555-0100 or visit evil.example"
    client = Client(REMOTE_ADDR=HOME_IP, HTTP_USER_AGENT=phishing)
    assert log_in(client).url == "/"
    assert client.post(
        "/security/password",
        {
            "old_password": PASSWORD,
            "new_password1": "another-long-passphrase-7",
            "new_password2": "another-long-passphrase-7",
        },
    ).url
    deliver()
    mails = inbox.to(ALICE)  # a sign-in from a new address, and the password change
    assert len(mails) == 2
    for mail in mails:
        assert "Browser:  Unknown browser" in mail.text
        assert "evil.example" not in mail.text and "555-0100" not in mail.text


def test_a_notice_python_cannot_write_fails_once_and_is_never_retried(
    alice, inbox, clock, monkeypatch
):
    with_email(alice)
    services.change_own_password(alice, PASSWORD, "another-long-passphrase-7")

    def unwritable(self):
        raise email.errors.HeaderParseError("expected atom at a start of dot-atom-text")

    monkeypatch.setattr(EmailMessage, "message", unwritable)
    deliver()
    notice = Notice.objects.get()
    assert (notice.status, notice.attempts) == ("failed", 1)
    [failed] = Event.objects.filter(event="notice_failed")
    assert failed.details["error"].startswith("cannot be written: HeaderParseError")
    clock.advance(hours=2)
    assert sender.send_due() == 0
    assert Notice.objects.get().attempts == 1 and not inbox.received()


def test_an_address_python_cannot_write_fails_at_once(alice, inbox, clock):
    # An address from before the Profile refused encoded words (it decodes to a line break).
    Account.objects.filter(pk=alice.pk).update(email="=?utf-8?q?=0A?=@example.com")
    alice.refresh_from_db()
    services.change_own_password(alice, PASSWORD, "another-long-passphrase-7")
    deliver()
    clock.advance(hours=2)
    deliver()
    notice = Notice.objects.get()
    assert (notice.status, notice.attempts) == ("failed", 1)
    assert Event.objects.filter(event="notice_failed").count() == 1
    assert not Event.objects.filter(event="notice_deferred").exists()


def test_the_sender_command_sends_what_is_due(alice, inbox):
    with_email(alice)
    services.change_own_password(alice, PASSWORD, "another-long-passphrase-7")
    out = io.StringIO()
    call_command("send_notices", "--once", stdout=out)
    assert out.getvalue().strip() == "1 notice(s) tried."
    assert subjects(inbox) == ["[Admin Panel] Your password was changed"]


def test_the_sender_command_refuses_without_an_smtp_server(settings):
    settings.NOTICES_ENABLED = False
    with pytest.raises(CommandError, match="set ADMINPANEL_SMTP_URL"):
        call_command("send_notices", "--once")


# --- notices to a mailbox's owner --------------------------------------------------------------


def test_a_renamed_mailbox_is_told_at_its_new_address_what_became_of_the_old_one(inbox):
    admin = make_admin()
    mail_services.create_domain(admin, name="example.org")
    anna = mail_services.create_mailbox(
        admin, address="anna@example.org", password=PASSWORD + "-mail"
    )
    mail_services.update_mailbox(
        admin, anna, address="anna.berg@example.org", keep_old_address_as_alias=True
    )
    mail_services.update_mailbox(admin, anna, address="a.berg@example.org")
    deliver()
    first, second = inbox.to("anna.berg@example.org") + inbox.to("a.berg@example.org")
    assert first.subject == "[Admin Panel] Your mail address is now anna.berg@example.org"
    assert "from anna@example.org to anna.berg@example.org" in first.text
    assert "Mail to anna@example.org still reaches you." in first.text
    assert "Mail to anna.berg@example.org is no longer delivered" in second.text
    assert PASSWORD not in first.text + second.text
