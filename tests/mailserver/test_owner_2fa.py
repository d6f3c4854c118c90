"""Turning 2FA on stops the mailbox password at the mail apps (SPEC §14): after the owner's
second factor is set up, real Dovecot refuses the mailbox password over IMAP and accepts an app
password, at the next login, on SQLite and PostgreSQL; a reset opens the password again."""

import pytest

from adminpanel.mail import app_passwords
from adminpanel.mail.models import Mailbox
from adminpanel.twofactor import interface as twofactor
from tests.mailserver.mail import can_log_in
from tests.owners import owner_with_2fa

PASSWORD = "Mailbox-Cobalt-Harbor-27"

pytestmark = pytest.mark.django_db(transaction=True)


def test_after_the_owner_turns_2fa_on_only_app_passwords_open_imap(
    mailserver, admin_api, domain, clock
):
    address = f"owner@{domain}"
    answer = admin_api.post("/users", {"address": address, "password": PASSWORD})
    assert answer.status == 201, answer.body
    box = Mailbox.objects.select_related("domain").get(pk=answer.body["id"])
    secret = app_passwords.create_app_password(box, name="Phone").secret
    assert can_log_in(mailserver, address, PASSWORD)

    owner = owner_with_2fa(box, clock)
    assert not can_log_in(mailserver, address, PASSWORD)
    assert can_log_in(mailserver, address, secret)
    assert admin_api.get(f"/users/{box.pk}").status == 200

    twofactor.reset(owner.account)  # no second factor left: the domain's setting rules again
    assert can_log_in(mailserver, address, PASSWORD)
