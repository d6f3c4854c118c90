"""Debian's stock Postfix settings, for the tests that run Postfix as the README's "On a Debian
mail server" path sets it up (test_debian_path, test_dkim_signing)."""

import re
import socket
from pathlib import Path

import pytest

PACKAGED_MAIN_CF = Path("/usr/share/postfix/main.cf.debian")
POSTINST = Path("/var/lib/dpkg/info/postfix.postinst")


def debian_stock_main_cf() -> str:
    """/etc/postfix/main.cf as Debian 12's postfix package writes it for "Internet Site"."""
    if not PACKAGED_MAIN_CF.is_file() or not POSTINST.is_file():
        pytest.skip("Debian's postfix package is not installed")
    # The relay rule comes from the installed package's postinst itself, so this test follows
    # the package rather than a copy of it.
    relay = re.search(r'postconf -e "(smtpd_relay_restrictions=[^"]*)"', POSTINST.read_text())
    assert relay, "postfix.postinst no longer sets smtpd_relay_restrictions"
    hostname = socket.gethostname()
    postinst = [
        relay.group(1),
        f"myhostname={hostname}",
        "alias_maps=hash:/etc/aliases",
        "alias_database=hash:/etc/aliases",
        f"mydestination=$myhostname, {hostname}, localhost.localdomain, , localhost",
        "relayhost=",
        "mynetworks=127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128",
        "mailbox_size_limit=0",
        "recipient_delimiter=+",
        "inet_interfaces=all",
        "inet_protocols=all",
    ]
    return PACKAGED_MAIN_CF.read_text() + "".join(line + "\n" for line in postinst)
