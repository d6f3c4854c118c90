"""postmaster@ of every active domain takes mail (RFC 5321 §4.5.1), without a catch-all: the
domain's own postmaster alias or mailbox first, then its catch-all, else the operator's address
(`mailserver-config --postmaster`, here the outside test server's)."""

import argparse

import pytest

from adminpanel.mailserver.commands import mailserver_config
from tests.mailserver.accounts import POSTMASTER
from tests.mailserver.mail import rcpt, send, unique_subject, wait_for, wait_until
from tests.mailserver.mail_data import PASSWORD, add_alias, add_mailbox, domain_id

pytestmark = pytest.mark.django_db(transaction=True)


def arrived(outside, to: str, subject: str) -> bool:
    return any(mail.subject == subject for mail in outside.to(to))


def test_postmaster_of_a_domain_without_one_reaches_the_operators_address(
    mailserver, outside, admin_api, domain
):
    assert rcpt(mailserver, f"postmaster@{domain}")[0] == 250
    assert rcpt(mailserver, f"Postmaster@{domain.upper()}")[0] == 250
    subject = unique_subject("Abuse report")
    send(mailserver, f"postmaster@{domain}", subject)
    assert wait_until(lambda: arrived(outside, POSTMASTER, subject))


def test_a_domains_own_postmaster_alias_comes_first(mailserver, outside, admin_api, domain):
    add_mailbox(admin_api, f"alice@{domain}")
    add_alias(admin_api, f"postmaster@{domain}", [f"alice@{domain}"])
    subject = unique_subject("To our postmaster")
    send(mailserver, f"postmaster@{domain}", subject)
    assert subject in wait_for(mailserver, f"alice@{domain}", PASSWORD, subject)
    assert not arrived(outside, POSTMASTER, subject)


def test_a_domains_catch_all_comes_before_the_operators_address(
    mailserver, outside, admin_api, domain
):
    add_mailbox(admin_api, f"alice@{domain}")
    answer = admin_api.patch(
        f"/domains/{domain_id(admin_api, domain)}", {"catch_all": f"alice@{domain}"}
    )
    assert answer.status == 200
    subject = unique_subject("Caught")
    send(mailserver, f"postmaster@{domain}", subject)
    assert subject in wait_for(mailserver, f"alice@{domain}", PASSWORD, subject)
    assert not arrived(outside, POSTMASTER, subject)


def test_postmaster_of_an_inactive_domain_is_refused(mailserver, admin_api, domain):
    assert (
        admin_api.patch(f"/domains/{domain_id(admin_api, domain)}", {"active": False}).status == 200
    )
    code, reply = rcpt(mailserver, f"postmaster@{domain}")
    assert 500 <= code < 600, reply


def test_mailserver_config_takes_the_postmaster_address(db, tmp_path):
    args = argparse.Namespace(out=str(tmp_path), role=None, postmaster="Hostmaster@Example.net")
    assert mailserver_config(args) == 0
    main_cf = (tmp_path / "postfix" / "main.cf").read_text()
    settings = dict(line.split(" = ", 1) for line in main_cf.splitlines()[1:])
    assert "postmaster" in settings["virtual_alias_maps"].split(", ")[-1]
    assert "hostmaster@example.net" in main_cf + "".join(
        path.read_text() for path in (tmp_path / "postfix").glob("postmaster.cf")
    )


@pytest.mark.parametrize("address", ["nobody", "a@b@c.example", "x'@y.example", "a b@c.example"])
def test_a_postmaster_that_is_not_one_address_gets_one_line(db, tmp_path, address, capsys):
    args = argparse.Namespace(out=str(tmp_path), role=None, postmaster=address)
    assert mailserver_config(args) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert not (tmp_path / "postfix").exists()
