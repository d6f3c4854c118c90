"""Password guessing per mailbox (issue 21 item 3): after too many wrong passwords for one
mailbox, even the right one is refused for a while, whatever the client's address; another
mailbox is unaffected. Dovecot asks the auth policy server (mailserver.policy), which counts
failures per mailbox in the database. On the private trial, and on the README's path: Dovecot
with its own defaults (auth_failure_delay, the per-IP penalty) and the generated settings."""

import pytest

from adminpanel.mailserver.models import AuthFailures
from adminpanel.mailserver.policy import FAILURES
from tests.mailserver.mail import can_log_in, wait_until
from tests.mailserver.mail_data import PASSWORD, add_mailbox
from tests.mailserver.servers import private_mail_server

README_PATH_FAILURES = 3  # few: Dovecot's own delay makes each refusal take seconds there

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def readme_dovecot(django_db_setup, django_db_blocker):
    """Dovecot without the trial's shortcuts: failed logins wait as Debian's Dovecot makes
    them wait."""
    with private_mail_server(
        django_db_blocker,
        "adminpanel-guessing-test-",
        auth_failures=README_PATH_FAILURES,
        trial_auth=False,
    ) as server:
        yield server


def failures_of(address: str) -> int:
    row = AuthFailures.objects.filter(address=address).first()
    return row.failures if row else 0


def guessed_until_locked(server, admin_api, domain: str, failures: int) -> None:
    victim, other = f"victim@{domain}", f"other@{domain}"
    add_mailbox(admin_api, victim)
    add_mailbox(admin_api, other)
    for attempt in range(failures):
        assert not can_log_in(server, victim, f"guess-{attempt}")
    # Dovecot reports a result after answering the client: the count is in once it arrives.
    assert wait_until(lambda: failures_of(victim) >= failures)
    assert not can_log_in(server, victim, PASSWORD)  # the right password, refused for now
    assert can_log_in(server, other, PASSWORD)  # another mailbox is unaffected

    # The wait over (the last failure long ago), the right password opens it again.
    AuthFailures.objects.filter(address=victim).update(last_failure=0)
    assert can_log_in(server, victim, PASSWORD)
    assert wait_until(lambda: failures_of(victim) == 0)  # a success resets the count


def test_after_too_many_wrong_passwords_a_mailbox_refuses_even_the_right_one(
    mailserver, admin_api, domain
):
    guessed_until_locked(mailserver, admin_api, domain, FAILURES)


def test_fewer_wrong_passwords_than_the_limit_do_not_lock_the_mailbox(
    mailserver, admin_api, domain
):
    add_mailbox(admin_api, f"typo@{domain}")
    for attempt in range(FAILURES - 1):
        assert not can_log_in(mailserver, f"typo@{domain}", f"typo-{attempt}")
    assert can_log_in(mailserver, f"typo@{domain}", PASSWORD)


def test_the_limit_holds_on_the_readme_path_with_dovecots_own_delays(
    readme_dovecot, admin_api, domain
):
    guessed_until_locked(readme_dovecot, admin_api, domain, README_PATH_FAILURES)
