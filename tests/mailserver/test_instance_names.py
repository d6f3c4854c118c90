"""A private Postfix + Dovecot starts whatever its temporary directory is called.

mkdtemp's names end with "_" one time in 37; the instance's myhostname was made of the name with
"_" turned into "-", so such a start failed — Postfix's master refuses a host label ending in "-"
and says so only to a syslog the test machine does not have (`postfix start failed (1)` with no
word in any log, one mail-server start in 37, in CI)."""

import shutil
import socket
import tempfile
from pathlib import Path

import pytest

from adminpanel.mailserver.config import Database
from adminpanel.mailserver.instance import PrivateMailServer, host_label
from testbed.postgres import free_port


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("adminpanel-mailserver-test-x1y2z3_", "adminpanel-mailserver-test-x1y2z3"),
        ("_leading_and__double", "leading-and-double"),
        ("MiXeD.dots", "mixed-dots"),
        ("___", "instance"),
        ("a" * 80, "a" * 63),
    ],
)
def test_the_host_label_is_a_valid_dns_label(name, label):
    assert host_label(name) == label


@pytest.mark.parametrize("affix", [{"suffix": "_"}, {"prefix": "_"}])
def test_an_instance_in_a_directory_named_with_an_edge_underscore_starts(tmp_path, affix):
    # In /tmp as the mail server fixture makes it: Postfix's own user must traverse it.
    directory = Path(tempfile.mkdtemp(**affix))
    server = PrivateMailServer(
        directory,
        Database("sqlite", str(tmp_path / "panel.sqlite3")),
        smtp_port=free_port(),
        imap_port=free_port(),
    )
    try:
        with server:
            with socket.create_connection(("127.0.0.1", server.smtp_port), timeout=10) as smtp:
                assert smtp.recv(200).startswith(b"220 ")
    finally:
        shutil.rmtree(directory, ignore_errors=True)
