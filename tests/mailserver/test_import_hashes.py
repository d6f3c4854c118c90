"""SPEC §16 "Import existing hashes", end to end with the real Dovecot: a mailbox imported with
the hash its old mail service kept opens IMAP with its old password, and not with another."""

import pytest

from tests.mailserver.mail import can_log_in, dovecot_hash

pytestmark = pytest.mark.django_db(transaction=True)

OLD_PASSWORD = "Old-Service-Password-31"


@pytest.mark.parametrize("scheme", ["SHA512-CRYPT", "BLF-CRYPT", "ARGON2ID"])
def test_a_mailbox_imported_with_its_hash_logs_in_with_its_old_password(
    mailserver, admin_api, domain, scheme
):
    hashed = dovecot_hash(scheme, OLD_PASSWORD)
    assert hashed.startswith(f"{{{scheme}}}")
    address = f"moved-{scheme.lower()}@{domain}"
    csv = f'address,display_name,password,quota_mb\n{address},Moved,"{hashed}",\n'
    answer = admin_api.post("/users/import", {"csv": csv, "dry_run": False})
    assert answer.status == 201, answer.body
    assert can_log_in(mailserver, address, OLD_PASSWORD)
    assert not can_log_in(mailserver, address, OLD_PASSWORD + "x")


def test_mailboxes_imported_with_generated_passwords_log_in_with_them(
    mailserver, admin_api, domain
):
    csv = f"address,display_name,password,quota_mb\nnew@{domain},New,,\n"
    answer = admin_api.post("/users/import", {"csv": csv, "dry_run": False})
    assert answer.status == 201, answer.body
    password = answer.body["generated_passwords"][f"new@{domain}"]
    assert can_log_in(mailserver, f"new@{domain}", password)
