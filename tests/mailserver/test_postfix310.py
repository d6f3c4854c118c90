"""Debian 13's Postfix 3.10 takes the settings `mailserver-config` writes (issue 18, SPEC §15):
Debian 13's own packages, from the cached trixie root (testbed/trixie.py), against the tests'
database (SQLite through the lookup server, then PostgreSQL read by Postfix's pgsql client).

README step 3 as `mailserver-postconf` does it (mailserver/postconf.py), with the root's own
`postconf`, into a copy of the root's stock /etc/postfix: `postfix check` is then clean, and
the root's `postmap` answers from the panel's data through the generated tables — a mailbox, an
alias, an alias domain and the sender-login map. Postfix itself is not started in the root (its
master.cf would take ports 25, 587 and 465 of this host): tests/mailserver runs this machine's
Postfix 3.7 with the same settings end to end."""

import secrets
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from adminpanel.mailserver import config, postconf
from adminpanel.mailserver.lookup import LookupServer
from testbed.postgres import free_port
from testbed.trixie import ensure_root, postfix_version
from tests.certificates import self_signed
from tests.mailserver.mail_data import add_alice_bob_and_team

pytestmark = pytest.mark.django_db(transaction=True)


class ChrootedPostfix:
    """A Postfix configuration directory in the root, set up as README step 3 sets one up."""

    def __init__(self, root: Path, database: config.Database, lookup_address: str):
        self.root = root
        self.inside = Path("/run") / f"adminpanel-postfix-{secrets.token_hex(4)}"
        self.dir = root / self.inside.relative_to("/")
        self.database = database
        self.lookup_address = lookup_address

    @property
    def config_dir(self) -> Path:
        return self.inside / "postfix"  # as the root's programs see it

    def run(self, *argv: str) -> str:
        """A program of the root; its output, after an assertion that it worked."""
        done = subprocess.run(  # noqa: S603 - fixed programs, our own paths
            ["chroot", str(self.root), *argv],  # noqa: S607
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, f"{' '.join(argv)}: {done.stdout}{done.stderr}"
        return done.stdout

    def set_up(self) -> None:
        shutil.copytree(self.root / "etc/postfix", self.dir / "postfix")
        (self.dir / "tls").mkdir()
        self_signed(self.dir / "tls")
        layout = replace(
            config.debian_layout(),
            postfix_dir=self.inside / "adminpanel",
            lookup_address=self.lookup_address,
            postmaster="postmaster@outside.test",
            certfile=str(self.inside / "tls/cert.pem"),
            keyfile=str(self.inside / "tls/key.pem"),
            app_password_pepper=settings.APP_PASSWORD_PEPPER,
            dovecot_version="2.4",
        )
        files = {
            name: text
            for name, (text, _mode) in config.render(self.database, layout).items()
            if name.startswith("postfix/")
        }
        lookups = self.dir / "adminpanel"
        lookups.mkdir()
        for name, text in files.items():
            if name not in {"postfix/main.cf", "postfix/master.cf"}:  # step 3's `install`
                (lookups / Path(name).name).write_text(text)
        postconf.apply(self.config_dir, postconf.settings_of(files["postfix/main.cf"]), self.run)
        postconf.apply_services(
            self.config_dir, postconf.services_of(files["postfix/master.cf"]), self.run
        )

    def check(self) -> subprocess.CompletedProcess:
        return subprocess.run(  # noqa: S603
            ["chroot", str(self.root), "postfix", "-c", str(self.config_dir), "check"],  # noqa: S607
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def setting(self, name: str) -> str:
        return self.run("postconf", "-c", str(self.config_dir), "-h", name).strip()

    def lookup(self, key: str, setting: str) -> str:
        """What the first table of the setting that knows the key answers ("" if none does),
        as smtpd or cleanup would have it answered; a `proxy:` table asked directly, as
        proxymap would ask it."""
        for table in postconf.words(self.setting(setting)):
            done = subprocess.run(  # noqa: S603
                ["chroot", str(self.root), "postmap", "-c", str(self.config_dir),  # noqa: S607
                 "-q", key, table.removeprefix("proxy:")],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )  # fmt: skip
            assert done.returncode in {0, 1}, done.stderr  # 1: not found
            assert "warning" not in done.stderr and "fatal" not in done.stderr, done.stderr
            if done.returncode == 0:
                return done.stdout.strip()
        return ""

    def remove(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def postfix310(django_db_setup, django_db_blocker) -> Iterator[ChrootedPostfix]:
    root = ensure_root()  # the first run on a machine builds it: about a minute
    assert postfix_version(root).startswith("3.10.")
    with django_db_blocker.unblock():
        database = config.Database.of(connection.settings_dict)
    lookup = None
    if database.vendor == "sqlite":  # Postfix asks the lookup server (README step 5)
        lookup = LookupServer(database.name, port=free_port()).start()
        address = "{}:{}".format(*lookup.server_address[:2])
    else:
        address = config.debian_layout().lookup_address  # named by no PostgreSQL setting
    postfix = ChrootedPostfix(root, database, address)
    try:
        postfix.set_up()
        yield postfix
    finally:
        postfix.remove()
        if lookup is not None:
            lookup.stop()


def test_postfix_check_is_clean_with_the_generated_settings(postfix310):
    done = postfix310.check()
    # Debian's `postfix check` first copies /etc files into the queue's chroot ("updating
    # /etc/hosts => …"); anything else it says is a warning.
    said = [line for line in done.stdout.splitlines() if not line.startswith("updating /etc/")]
    assert (done.returncode, said, done.stderr) == (0, [], "")
    # The settings are there, as step 3 puts them: the panel's tables, the submission services.
    assert "sender-logins" in postfix310.setting("smtpd_sender_login_maps")
    services = postfix310.run("postconf", "-c", str(postfix310.config_dir), "-M")
    assert "submission inet" in services and "submissions inet" in services


def test_the_lookup_tables_answer_from_the_panels_data(postfix310, admin_api, domain):
    add_alice_bob_and_team(admin_api, domain)
    other = f"other-{domain}"
    assert admin_api.post("/alias-domains", {"name": other, "target": domain}).status == 201

    assert postfix310.lookup(domain, "virtual_mailbox_domains") == domain
    maildir = postfix310.lookup(f"alice@{domain}", "virtual_mailbox_maps")
    assert maildir.startswith(f"{domain}/alice.") and maildir.endswith("/"), maildir
    assert postfix310.lookup(f"team@{domain}", "virtual_alias_maps") == f"alice@{domain}"
    assert postfix310.lookup(f"nobody@{domain}", "virtual_mailbox_maps") == ""
    assert postfix310.lookup(other, "virtual_alias_domains") == other
    # Who may send as which address: alice as team@, and as both at the alias domain.
    for address in [f"alice@{domain}", f"team@{domain}", f"team@{other}"]:
        assert postfix310.lookup(address, "smtpd_sender_login_maps") == f"alice@{domain}"
    assert postfix310.lookup(f"bob@{domain}", "smtpd_sender_login_maps") == f"bob@{domain}"
    assert postfix310.lookup(f"nobody@{domain}", "smtpd_sender_login_maps") == ""
