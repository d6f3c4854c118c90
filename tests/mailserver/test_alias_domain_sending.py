"""Sending as an alias domain's address (SPEC §15, §16): with the alias domain `other` →
`domain`, a login that may send as local@domain may send as local@other, from outside with
smtplib over STARTTLS on the submission port; the message is signed with d= the alias domain
(DMARC aligns d= with the From: domain) and verifies with dkimpy against the record the
domain's DNS records page publishes under the alias domain's name. Someone else's address of
the alias domain is refused, as on the target."""

from itertools import count

import pytest

from tests.mailserver.mail import (
    assert_envelope_refused,
    assert_from_refused,
    submit,
    unique_subject,
    wait_until,
)
from tests.mailserver.mail_data import PASSWORD, add_alice_bob_and_team
from tests.mailserver.signatures import (
    dkim_record,
    raw_message,
    signature,
    signed_for,
    verifies_with,
)

_names = count(1)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def people(admin_api, domain) -> dict:
    """alice and bob of `domain`, team@ delivering to alice, and the alias domain `other`."""
    add_alice_bob_and_team(admin_api, domain)
    other = f"other{next(_names)}-{domain}"
    answer = admin_api.post("/alias-domains", {"name": other, "target": domain})
    assert answer.status == 201, answer.body
    found = admin_api.get("/domains", QUERY_STRING=f"search={domain}").body["items"][0]
    return {
        "domain": domain,
        "other": other,
        "domain_id": found["id"],
        "alias_domain_id": answer.body["id"],
        "alice": f"alice@{domain}",
        "bob": f"bob@{domain}",
    }


def selector_of(admin_api, domain_id: int) -> str:
    records = admin_api.get(f"/domains/{domain_id}/dns").body
    return next(r["name"].split(".")[0] for r in records if "._domainkey." in r["name"])


@pytest.mark.parametrize("local", ["alice", "team", "Alice+news"])
def test_a_login_sends_as_its_address_at_the_alias_domain_signed_for_that_domain(
    mailserver, admin_api, people, local
):
    sender = f"{local}@{people['other']}"
    selector = selector_of(admin_api, people["domain_id"])
    assert wait_until(lambda: signed_for(mailserver, people["other"], selector))
    subject = unique_subject("From the other name")
    submit(mailserver, people["alice"], PASSWORD, to=people["bob"], subject=subject,
           mail_from=sender, from_header=f"Alice <{sender}>")  # fmt: skip
    message = raw_message(mailserver, people["bob"], subject)
    tags = signature(message)
    assert (tags["d"], tags["s"]) == (people["other"], selector)
    record = dkim_record(admin_api, people["domain_id"], selector, name=people["other"])
    assert verifies_with(message, record)
    # The record of the target's own name does not vouch for d= the alias domain.
    own = dkim_record(admin_api, people["domain_id"], selector, name=people["domain"])
    assert not verifies_with(message, own)


@pytest.mark.parametrize("local", ["bob", "BOB", "bob+alice", "nobody", "postmaster"])
def test_someone_elses_address_at_the_alias_domain_is_refused(mailserver, people, local):
    address = f"{local}@{people['other']}"
    assert_envelope_refused(
        mailserver, people["alice"], PASSWORD, to=people["bob"], mail_from=address
    )
    assert_from_refused(
        mailserver, people["alice"], PASSWORD, to=people["bob"], from_header=f"Someone <{address}>"
    )


def test_an_alias_domain_switched_off_is_no_address_to_send_as(mailserver, admin_api, people):
    answer = admin_api.patch(f"/alias-domains/{people['alias_domain_id']}", {"active": False})
    assert answer.status == 200, answer.body
    address = f"alice@{people['other']}"
    assert_envelope_refused(
        mailserver, people["alice"], PASSWORD, to=people["bob"], mail_from=address
    )
    # And its key leaves the signer's tables (nothing is signed for a name that is off).
    selector = selector_of(admin_api, people["domain_id"])
    assert wait_until(lambda: not signed_for(mailserver, people["other"], selector))
