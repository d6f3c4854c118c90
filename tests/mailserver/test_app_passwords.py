"""App passwords at the mail server (SPEC §14, issue 22): what opens IMAP (and SMTP AUTH, which
Postfix hands to the same Dovecot auth) is decided where Dovecot verifies. An active app
password always, typed with or without separators; the mailbox password only where the domain
allows it; nothing revoked, truncated or another mailbox's; bad input refused cleanly. Through
the real Dovecot, on SQLite and PostgreSQL."""

import subprocess
from itertools import count

import pytest

from adminpanel.audit.models import Event
from adminpanel.errors import Invalid
from adminpanel.mail import app_passwords
from adminpanel.mail.models import AppPassword, Mailbox
from adminpanel.mailserver.models import MailLogin
from tests.mailserver.mail import can_log_in, wait_until
from tests.mailserver.mail_data import PASSWORD, add_mailbox_row
from tests.mailserver.servers import private_mail_server

IP_LIMIT = 4  # the other mail host's per-IP limit: few, so a test reaches it quickly
_sources = count(10)

pytestmark = pytest.mark.django_db(transaction=True)


def source() -> str:
    """A loopback address of its own (127.0.0.N) for a test's IMAP clients: the per-IP count
    of one test never touches another's."""
    return f"127.0.0.{next(_sources)}"


@pytest.fixture(scope="module")
def other_host(django_db_setup, django_db_blocker):
    """A second mail host (its own Dovecot and policy server) on the same database."""
    with private_mail_server(
        django_db_blocker,
        "adminpanel-app-passwords-test-",
        auth_ip_failures=IP_LIMIT,
    ) as server:
        yield server


def new_app_password(box: Mailbox, name: str = "Phone") -> tuple[AppPassword, str]:
    created = app_passwords.create_app_password(box, name=name)
    return created.app_password, created.secret


def spellings(secret: str) -> list[str]:
    groups = secret.split()
    return ["".join(groups), "-".join(groups), " ".join(groups)]


def test_an_app_password_opens_imap_typed_with_or_without_separators(mailserver, admin_api, domain):
    box = add_mailbox_row(admin_api, f"ann@{domain}")
    _, secret = new_app_password(box)
    assert len(secret.replace(" ", "")) == 24 and secret == secret.lower()
    for typed in spellings(secret):
        assert can_log_in(mailserver, f"ann@{domain}", typed), typed
    assert can_log_in(mailserver, f"ANN@{domain.upper()}", spellings(secret)[0])
    assert can_log_in(mailserver, f"ann@{domain}", PASSWORD)  # the domain allows it (default)


def test_a_second_app_password_of_the_same_mailbox_works_as_well(mailserver, admin_api, domain):
    box = add_mailbox_row(admin_api, f"two@{domain}")
    _, first = new_app_password(box, "Phone")
    _, second = new_app_password(box, "Laptop")
    assert can_log_in(mailserver, f"two@{domain}", first)
    assert can_log_in(mailserver, f"two@{domain}", second)


def test_where_the_domain_forbids_it_the_mailbox_password_is_refused_and_app_passwords_work(
    mailserver, admin_api, domain
):
    box = add_mailbox_row(admin_api, f"bo@{domain}")
    _, secret = new_app_password(box)
    answer = admin_api.patch(
        f"/domains/{box.domain_id}", {"mail_apps_may_use_mailbox_password": False}
    )
    assert answer.status == 200 and answer.body["mail_apps_may_use_mailbox_password"] is False
    assert not can_log_in(mailserver, f"bo@{domain}", PASSWORD)
    assert can_log_in(mailserver, f"bo@{domain}", secret)
    admin_api.patch(f"/domains/{box.domain_id}", {"mail_apps_may_use_mailbox_password": True})
    assert can_log_in(mailserver, f"bo@{domain}", PASSWORD)  # at once, no cache


def test_a_revoked_app_password_is_refused_at_the_next_login_on_every_mail_host(
    mailserver, other_host, admin_api, domain
):
    box = add_mailbox_row(admin_api, f"cy@{domain}")
    revoked, secret = new_app_password(box, "Old phone")
    _, kept = new_app_password(box, "Laptop")
    for host in (mailserver, other_host):
        assert can_log_in(host, f"cy@{domain}", secret, source())
    app_passwords.revoke_app_password(box, revoked.pk)
    for host in (mailserver, other_host):
        for typed in spellings(secret):
            assert not can_log_in(host, f"cy@{domain}", typed, source())
        assert can_log_in(host, f"cy@{domain}", kept, source())


def test_the_admins_revoke_app_passwords_refuses_them_all_at_the_next_login(
    mailserver, admin_api, domain
):
    box = add_mailbox_row(admin_api, f"dee@{domain}")
    secrets = [new_app_password(box, name)[1] for name in ("Phone", "Tablet")]
    assert admin_api.get(f"/users/{box.pk}").body["app_passwords"] == 2
    answer = admin_api.post(f"/users/{box.pk}/revoke-app-passwords", {})
    assert answer.status == 200 and answer.body["revoked"] == 2
    assert answer.body["user"]["app_passwords"] == 0
    for secret in secrets:
        assert not can_log_in(mailserver, f"dee@{domain}", secret)
    assert can_log_in(mailserver, f"dee@{domain}", PASSWORD)


def test_a_truncated_or_another_mailboxs_app_password_is_refused(mailserver, admin_api, domain):
    mine, theirs = (
        add_mailbox_row(admin_api, f"eve@{domain}"),
        add_mailbox_row(admin_api, f"fay@{domain}"),
    )
    _, secret = new_app_password(mine)
    _, other = new_app_password(theirs)
    plain = spellings(secret)[0]
    for wrong in [plain[:-1], plain[:20], secret[:-5], plain + "a", plain.upper(), other, ""]:
        assert not can_log_in(mailserver, f"eve@{domain}", wrong), wrong
    assert not can_log_in(mailserver, f"fay@{domain}", secret)
    assert can_log_in(mailserver, f"eve@{domain}", secret)


def test_a_mailbox_with_sign_in_off_is_opened_by_no_app_password(mailserver, admin_api, domain):
    box = add_mailbox_row(admin_api, f"gus@{domain}")
    _, secret = new_app_password(box)
    assert admin_api.patch(f"/users/{box.pk}", {"sign_in_allowed": False}).status == 200
    assert not can_log_in(mailserver, f"gus@{domain}", secret)


@pytest.mark.parametrize(
    "address, password",
    [
        ("ann\0x@{domain}", "{secret}"),
        ("ann@{domain}", "{secret}\0"),
        ("ann@{domain}' OR '1'='1", "{secret}"),
        ("ann@{domain}", "x' OR '1'='1"),
        ('"ann"@{domain}', "{secret}"),
        ("%@{domain}", "{secret}"),
        ("_nn@{domain}", "{secret}"),
        ("a%@{domain}", "%u%{{password}}"),
        ("ann/../ann@{domain}", "{secret}"),
        ("ann@{domain}", "/" + "x" * 2000),
        ("a" * 5000 + "@{domain}", "{secret}"),
        ("ann@{domain}", "{secret}" + "x" * 10000),
        ("ännä@{domain}", "{secret}"),
        ("ann@{domain}", "ünïcødé-{secret}"),
        ("ann@{domain}", "\udcff\udcfe-{secret}"),
        ("\udcffann@{domain}", "{secret}"),
    ],
)
def test_bad_input_is_refused_cleanly_and_the_right_login_still_works(
    mailserver, admin_api, domain, address, password
):
    box = add_mailbox_row(admin_api, f"ann@{domain}")
    _, secret = new_app_password(box)
    typed = password.format(secret=spellings(secret)[0])
    try:
        assert not can_log_in(mailserver, address.format(domain=domain), typed)
    except ConnectionResetError:
        # Dovecot ends a connection whose line exceeds its limit: refused, just as firmly.
        assert len(address) + len(typed) > 8000
    assert can_log_in(mailserver, f"ann@{domain}", secret)


@pytest.mark.parametrize(
    "name", ["", "   ", "a\0b", "x" * 101, "bell\x07inside", "\ud800", None, 7, ["Phone"]]
)
def test_a_bad_name_is_refused_with_a_message_and_nothing_is_stored(admin_api, domain, name):
    box = add_mailbox_row(admin_api, f"hal@{domain}")
    with pytest.raises(Invalid) as refused:
        app_passwords.create_app_password(box, name=name)
    assert refused.value.field == "name" and refused.value.message
    assert not AppPassword.objects.exists()


def test_the_secret_is_stored_only_as_digests(admin_api, domain):
    box = add_mailbox_row(admin_api, f"ida@{domain}")
    stored, secret = new_app_password(box)
    row = AppPassword.objects.filter(pk=stored.pk).values().get()
    for spelling in spellings(secret):
        assert spelling not in str(row)
    assert row["digest_plain"] == app_passwords.digest(spellings(secret)[0])


def reported(address: str, **match) -> bool:
    return MailLogin.objects.filter(address=address, **match).exists()


def test_a_login_is_reported_and_folded_into_last_used_and_the_logs(mailserver, admin_api, domain):
    address = f"jo@{domain}"
    box = add_mailbox_row(admin_api, address)
    stored, secret = new_app_password(box)
    ip = source()
    assert can_log_in(mailserver, address, secret, ip)
    assert not can_log_in(mailserver, address, "wrong-guess", ip)
    assert not can_log_in(mailserver, address, "wrong-again", ip)
    # Dovecot reports after answering the client: the rows are in once they arrive.
    assert wait_until(lambda: reported(address, success=True) and reported(address, success=False))
    assert wait_until(lambda: MailLogin.objects.filter(address=address).count() == 3)
    while app_passwords.record_mail_logins():
        pass
    stored.refresh_from_db()
    assert (stored.last_used_protocol, stored.last_used_ip) == ("IMAP", ip)
    assert stored.last_used_at is not None
    login = Event.objects.get(event="mail_login", actor_name=address)
    assert login.ip == ip and login.details["app_password"] == "Phone"
    failed = Event.objects.get(event="mail_login_failed", actor_name=address)
    assert failed.ip == ip and failed.details["attempts"] == 2
    assert not MailLogin.objects.filter(address=address).exists()
    for event in Event.objects.filter(actor_name=address):
        assert secret.split()[0] not in str(event.details)


def test_smtp_auth_goes_through_the_same_check_and_counts_as_smtp(mailserver, admin_api, domain):
    """Postfix asks Dovecot's auth for SMTP AUTH; `doveadm auth test` asks it the same way."""
    address = f"kai@{domain}"
    box = add_mailbox_row(admin_api, address)
    stored, secret = new_app_password(box)
    admin_api.patch(f"/domains/{box.domain_id}", {"mail_apps_may_use_mailbox_password": False})

    def smtp_auth(password: str) -> bool:
        done = subprocess.run(
            [*mailserver.doveadm, "auth", "test", "-x", "service=smtp", "-x", "rip=192.0.2.7",
             address, password],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
        return done.returncode == 0 and "auth succeeded" in done.stdout

    assert smtp_auth(secret)
    assert not smtp_auth(PASSWORD)
    assert wait_until(lambda: reported(address, success=True, protocol="smtp"))
    while app_passwords.record_mail_logins():
        pass
    stored.refresh_from_db()
    assert (stored.last_used_protocol, stored.last_used_ip) == ("SMTP", "192.0.2.7")


def test_too_many_failures_from_one_address_refuse_every_login_from_it_for_a_while(
    other_host, admin_api, domain
):
    address = f"lee@{domain}"
    box = add_mailbox_row(admin_api, address)
    _, secret = new_app_password(box)
    guesser = source()
    for attempt in range(IP_LIMIT):  # each to another (unknown) mailbox: the per-IP count
        assert not can_log_in(other_host, f"nobody{attempt}@{domain}", "guess", guesser)
    assert wait_until(
        lambda: MailLogin.objects.filter(ip=guesser, success=False).count() >= IP_LIMIT
    )
    assert not can_log_in(other_host, address, secret, guesser)  # the right one, refused
    assert can_log_in(other_host, address, secret, source())  # from elsewhere: fine
