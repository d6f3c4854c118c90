"""A private Postfix and Dovecot on loopback, in one directory, from the generated files
(`adminpanel mailserver-run`, and the tests). Never touches the system's instances: own config
dirs, own queue, own sockets, logs in files (there may be no syslog).

Layout of the instance directory (0755 throughout: postfix, dovecot and vmail traverse it):
    postfix/   main.cf, master.cf (+ the pgsql: lookup files)   owned by root
    tls/       the trial's self-signed certificate and key (unless given others)
    spool/     Postfix's queue            pfdata/  Postfix's data (owned by postfix)
    dovecot/   dovecot.conf, adminpanel.conf, the passdb and userdb *.conf.ext, the dicts'
    run/       Dovecot's base_dir (sockets)   state/  Dovecot's state_dir
    opendkim/  opendkim.conf and its tables (the DKIM signer, mailserver.dkim)
    mail/      the maildirs (owned by vmail)  log/     postfix.log, dovecot.log
"""

from __future__ import annotations

import datetime
import grp
import ipaddress
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from dataclasses import replace
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.conf import settings

from adminpanel.listening import cannot_listen
from adminpanel.mailserver import config, dkim, postconf, purge, sessions
from adminpanel.mailserver.lookup import LookupServer
from adminpanel.mailserver.policy import (
    FAILURES,
    IP_FAILURES,
    WAIT_SECONDS,
    Limits,
    PolicyServer,
)
from adminpanel.mailserver.room import RoomServer
from adminpanel.mailserver.senders import SenderCheckServer

VMAIL = "vmail"
VMAIL_ID = 5000
REQUIRED = ["postfix", "postconf", "dovecot", "doveadm", "opendkim"]
PURGE_SECONDS = 1  # a trial purges at once what is due (an operator's cron: daily is plenty)


class MailServerError(Exception):
    pass


def ensure_vmail_user() -> int:
    """The vmail user and group (uid/gid 5000) that own the maildirs; created when missing."""
    try:
        return pwd.getpwnam(VMAIL).pw_uid
    except KeyError:
        pass
    try:
        grp.getgrnam(VMAIL)
    except KeyError:
        subprocess.run(["/usr/sbin/groupadd", "-g", str(VMAIL_ID), VMAIL], check=True)  # noqa: S603
    subprocess.run(  # noqa: S603 - fixed arguments
        [
            "/usr/sbin/useradd", "-r", "-u", str(VMAIL_ID), "-g", VMAIL,
            "-d", "/nonexistent", "-M", "-s", "/usr/sbin/nologin", VMAIL,
        ],
        check=True,
    )  # fmt: skip
    return pwd.getpwnam(VMAIL).pw_uid


def host_label(name: str) -> str:
    """A DNS label made of a directory's name, for the instance's myhostname. Postfix's master
    refuses a label that ends (or starts) with "-" and says why only to syslog, which may not
    exist: mkdtemp's names end with "_" one time in 37, so "_" → "-" alone made about one start
    in 37 fail with no message at all."""
    label = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:63].strip("-")
    return label or "instance"


def program(name: str) -> str | None:
    """The absolute path of a Postfix/Dovecot program (they live in /usr/sbin)."""
    return shutil.which(name, path=os.environ.get("PATH", "") + os.pathsep + "/usr/sbin")


def missing_programs() -> list[str]:
    return [name for name in REQUIRED if program(name) is None]


HOST_NAME = re.compile(r"\A(?=.{1,253}\Z)[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?\Z")


def postfix_relayhost(host_port: str) -> str:
    """HOST:PORT as Postfix's relayhost: "[host]:port", brackets so Postfix connects to that
    host itself instead of looking up its MX records; an IPv4 address as "[192.0.2.1]:port",
    an IPv6 one (given as [2001:db8::1]:port) as "[ipv6:2001:db8::1]:port"."""
    host, colon, port = host_port.strip().rpartition(":")
    bracketed = host.startswith("[") and host.endswith("]")
    host = host[1:-1] if bracketed else host
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if (
        not colon
        or not port.isdigit()
        or not 0 < int(port) < 65536
        or (address is None and not HOST_NAME.match(host))
        or (address is not None and address.version == 6 and not bracketed)
    ):
        raise MailServerError(
            "--relayhost wants HOST:PORT, e.g. smtp.example.net:587, 192.0.2.1:25 or "
            f"[2001:db8::1]:25, not {host_port!r}."
        )
    if address is not None and address.version == 6:
        return f"[ipv6:{address.compressed}]:{int(port)}"
    return f"[{address or host}]:{int(port)}"


def trial_certificate(directory: Path, hostname: str) -> tuple[Path, Path]:
    """A self-signed certificate for the trial's host name, localhost and 127.0.0.1, and its
    key (0600): TLS for submission and IMAP's STARTTLS when no --certfile is given. Clients
    must be told to accept it; an operator gives a real one."""
    directory.mkdir(mode=0o755, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    now = datetime.datetime.now(datetime.UTC)
    names = [
        x509.DNSName(hostname),
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
    ]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.unlink(missing_ok=True)
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as stream:
        stream.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    return cert_path, key_path


def _master_cf(smtp_port: int, outgoing_port: int) -> str:
    # Every daemon unchrooted ("n" in column 5): the database, the lookup server and
    # Dovecot's sockets must be reachable; postlog because there may be no syslog.
    services = [
        f"127.0.0.1:{smtp_port} inet n - n - - smtpd",
        # Dovecot's own outgoing mail (Sieve's forwarding and automatic replies) comes in here
        # and may leave for other domains: relayed for loopback clients only (mynetworks), as
        # Debian's stock Postfix relays for 127.0.0.1 on port 25. The SMTP port above never
        # relays.
        f"127.0.0.1:{outgoing_port} inet n - n - - smtpd"
        " -o syslog_name=postfix/outgoing"
        " -o smtpd_relay_restrictions=permit_mynetworks,reject",
        "pickup unix n - n 60 1 pickup",
        "cleanup unix n - n - 0 cleanup",
        "qmgr unix n - n 300 1 qmgr",
        "rewrite unix - - n - - trivial-rewrite",
        "bounce unix - - n - 0 bounce",
        "defer unix - - n - 0 bounce",
        "trace unix - - n - 0 bounce",
        "verify unix - - n - 1 verify",
        "flush unix n - n 1000? 0 flush",
        "proxymap unix - - n - - proxymap",
        "smtp unix - - n - - smtp",
        "relay unix - - n - - smtp",
        "showq unix n - n - - showq",
        "error unix - - n - - error",
        "retry unix - - n - - error",
        "discard unix - - n - - discard",
        "lmtp unix - - n - - lmtp",
        "anvil unix - - n - 1 anvil",
        "scache unix - - n - 1 scache",
        "tlsmgr unix - - n 1000? 1 tlsmgr",
        "postlog unix-dgram n - n - 1 postlogd",
    ]
    return "\n".join(services) + "\n"


def installed_dovecot_version() -> str | None:
    """ "2.3" or "2.4" by this host's `dovecot --version`; None without a Dovecot."""
    dovecot = program("dovecot")
    if dovecot is None:
        return None
    try:
        said = subprocess.run(  # noqa: S603 - our own program, no shell
            [dovecot, "--version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
        return config.dovecot_version_of(said)
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return None


# Refused logins answer at once (no 2 s delay, no per-IP penalty): a trial, not the internet.
# The per-mailbox limit of the auth policy server stays.
TRIAL_AUTH = """auth_failure_delay = 0
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
"""


def private_dovecot_conf(
    directory: Path,
    version: str,
    *,
    imap_port: int,
    outgoing_port: int,
    trial_auth: bool = True,
    auth_cache_size: str = "0",
) -> str:
    """dovecot.conf of a private Dovecot whose files are under `directory` (as Dovecot sees
    it): the instance's own paths and loopback listeners, then the generated settings."""
    if version == "2.3":
        header = """protocols = imap lmtp
# TLS: the certificate is in the generated settings (below); IMAP offers STARTTLS.
ssl_dh = </usr/share/dovecot/dh.pem
disable_plaintext_auth = no
"""
        address = "    address = 127.0.0.1\n"
    else:
        # 2.4 wants its configuration version first; a listener takes the global `listen`.
        header = """dovecot_config_version = 2.4.0
dovecot_storage_version = 2.4.0
protocols = imap lmtp
auth_allow_cleartext = yes
"""
        address = ""
    return f"""{header}instance_name = adminpanel-{directory.name}
base_dir = {directory}/run
state_dir = {directory}/state
log_path = {directory}/log/dovecot.log
info_log_path = {directory}/log/dovecot.log
listen = 127.0.0.1
auth_verbose = yes
{TRIAL_AUTH if trial_auth else ""}service imap-login {{
  inet_listener imap {{
{address}    port = {imap_port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
# Sieve's forwarding and automatic replies leave through this instance's Postfix (the system's
# sendmail would use the system's Postfix).
submission_host = 127.0.0.1:{outgoing_port}
!include {directory}/dovecot/adminpanel.conf
auth_cache_size = {auth_cache_size}
"""


def _free_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PrivateMailServer:
    """Postfix (SMTP on 127.0.0.1:smtp_port) and Dovecot (IMAP on 127.0.0.1:imap_port, LMTP
    delivery) reading the panel's database; on SQLite also the lookup server for Postfix."""

    def __init__(
        self,
        directory: Path,
        database: config.Database,
        *,
        smtp_port: int,
        imap_port: int,
        relayhost: str = "",
        outgoing_port: int | None = None,
        auth_cache_size: str = "0",
        postfix_reads_sqlite: bool = False,
        stock_main_cf: str | None = None,
        postmaster: str = "",
        auth_failures: int = FAILURES,
        auth_wait: int = WAIT_SECONDS,
        auth_ip_failures: int = IP_FAILURES,
        trial_auth: bool = True,
        submission_port: int | None = None,
        submissions_port: int | None = None,
        certfile: str = "",
        keyfile: str = "",
        submission_milters: tuple[str, ...] = (),
    ):
        """`relayhost` (HOST:PORT, `mailserver-run --relayhost`): where mail for other domains
        goes (forwarding, automatic replies), instead of the domains' MX hosts.
        `outgoing_port`: the loopback port Dovecot hands that mail to Postfix on (default: a
        free one). `auth_cache_size` and `postfix_reads_sqlite` exist for
        benchmarks/mailserver.py: an auth cache keeps old passwords working, Postfix's
        sqlite: stalls under writes. `stock_main_cf` (a distribution's packaged main.cf):
        Postfix runs from it plus the generated settings applied as the README says, instead
        of the trial's own main.cf (tests/mailserver/test_debian_path.py). `postmaster`: where
        postmaster@ of a domain without its own postmaster or catch-all goes.
        `auth_failures`/`auth_wait`: the per-mailbox limit of the auth policy server,
        `auth_ip_failures` its per-IP limit.
        `trial_auth`: refused logins answer at once; False keeps Dovecot's own defaults
        (auth_failure_delay, the per-IP penalty), as on the README's Debian path.
        `submission_port` (STARTTLS; default a free one) and `submissions_port` (TLS; None:
        not served): Postfix's submission services, as the README adds them.
        `certfile`/`keyfile`: their certificate and IMAP's; by default a self-signed one.
        `submission_milters`: milters after the From: check (a DKIM signer)."""
        self.dir = Path(directory).resolve()  # Postfix's -c needs an absolute path
        self.database = database
        self.smtp_port = smtp_port
        self.imap_port = imap_port
        self.relayhost = postfix_relayhost(relayhost) if relayhost else ""
        self.outgoing_port = outgoing_port or _free_loopback_port()
        self.auth_cache_size = auth_cache_size
        self.postfix_reads_sqlite = postfix_reads_sqlite
        self.stock_main_cf = stock_main_cf
        self.postmaster = postmaster
        self.lookup: LookupServer | None = None
        self.policy: PolicyServer | None = None
        self.room: RoomServer | None = None
        self.limits = Limits(database, auth_failures, auth_wait, auth_ip_failures)
        self.trial_auth = trial_auth
        self.submission_port = submission_port or _free_loopback_port()
        self.submissions_port = submissions_port
        self.certfile = certfile
        self.keyfile = keyfile
        # DKIM syncs completed: tables written and, when they changed, OpenDKIM told to reload.
        self.dkim_syncs = 0
        self.submission_milters = submission_milters
        self.sender_check: SenderCheckServer | None = None
        self.purging: threading.Thread | None = None
        self.stop_purging = threading.Event()
        self.postfix_started = False
        self.dovecot_started = False
        self.milter_port = _free_loopback_port()
        self.opendkim_pid: int | None = None
        self.dovecot_version = installed_dovecot_version() or "2.3"

    # --- paths -----------------------------------------------------------------------------

    @property
    def postfix_dir(self) -> Path:
        return self.dir / "postfix"

    @property
    def dovecot_conf(self) -> Path:
        return self.dir / "dovecot" / "dovecot.conf"

    @property
    def doveadm(self) -> list[str]:
        """doveadm for this instance's Dovecot (before the command's own arguments)."""
        return [program("doveadm") or "doveadm", "-c", str(self.dovecot_conf)]

    @property
    def mail_root(self) -> Path:
        return self.dir / "mail"

    @property
    def mail_host_name(self) -> str:
        """The name it ends IMAP sessions under (sessions.end_requested): its own, so that
        another instance or mail host on the same database ends its own sessions too."""
        return f"mailserver-run:{self.dir}"

    @property
    def log_dir(self) -> Path:
        return self.dir / "log"

    @property
    def dkim_dir(self) -> Path:
        return self.dir / "opendkim"

    def layout(self) -> config.Layout:
        run = self.dir / "run"
        return config.Layout(
            postfix_dir=self.postfix_dir,
            dovecot_dir=self.dir / "dovecot",
            mail_root=self.mail_root,
            # Relative listener names live in Dovecot's base_dir (run/).
            lmtp_for_postfix=f"lmtp:unix:{run}/adminpanel-lmtp",
            lmtp_listener="adminpanel-lmtp",
            quota_status_for_postfix=f"unix:{run}/adminpanel-quota-status",
            quota_status_listener="adminpanel-quota-status",
            vmail_uid=pwd.getpwnam(VMAIL).pw_uid,
            postfix_reads_sqlite=self.postfix_reads_sqlite,
            postmaster=self.postmaster,
            sasl_for_postfix=f"{run}/adminpanel-auth",
            sasl_listener="adminpanel-auth",
            submission_milters=self.submission_milters,
            submission_service=f"127.0.0.1:{self.submission_port}",
            submissions_service=(
                f"127.0.0.1:{self.submissions_port}" if self.submissions_port else ""
            ),
            chroot=False,
            certfile=self.certfile or str(self.dir / "tls" / "cert.pem"),
            keyfile=self.keyfile or str(self.dir / "tls" / "key.pem"),
            milter_port=self.milter_port,
            dkim_tables=self.dkim_dir,
            dkim_pid_file=self.dir / "run" / "opendkim.pid",
            app_password_pepper=settings.APP_PASSWORD_PEPPER,
            dovecot_version=self.dovecot_version,
        )

    # --- files -----------------------------------------------------------------------------

    @property
    def hostname(self) -> str:
        return f"mx.{host_label(self.dir.name)}.test"

    def _main_cf(self, layout: config.Layout) -> str:
        name = host_label(self.dir.name)
        instance = {
            "compatibility_level": "3.6",
            "queue_directory": self.dir / "spool",
            "data_directory": self.dir / "pfdata",
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "maillog_file": self.log_dir / "postfix.log",
            "maillog_file_prefixes": self.dir,
            "myhostname": self.hostname,
            "mydomain": f"{name}.test",
            "myorigin": "$myhostname",
            "mydestination": "",
            "local_recipient_maps": "",
            "alias_maps": "",
            "alias_database": "",
            "relayhost": self.relayhost,
            "relay_domains": "",
            "inet_interfaces": "loopback-only",
            "inet_protocols": "ipv4",
            "mynetworks": "127.0.0.1/32",
            # No permit_mynetworks: the loopback client must not relay anywhere.
            "smtpd_relay_restrictions": "reject_unauth_destination",
            "smtpd_banner": "$myhostname ESMTP",
            # A trial (and the tests) sends many refused RCPTs: no tarpit, no disconnect.
            "smtpd_error_sleep_time": "0",
            "smtpd_soft_error_limit": "1000",
            "smtpd_hard_error_limit": "1000",
            "smtpd_junk_command_limit": "1000",
            # Postfix's inflow control: every transaction that reaches an accepted RCPT opens a
            # cleanup connection, which takes a token; only a queued message makes the queue
            # manager hand tokens back. A trial's RCPT probes (MAIL, RCPT, RSET: nothing queued)
            # used up the 100 tokens, and from then on every accepted RCPT waited
            # in_flow_delay (1 s) — a mailbox's or an alias's alike. Nothing here to protect.
            "in_flow_delay": "0",
            "biff": "no",
        }
        # The instance's own values win over the generated ones (its relay restrictions: the
        # loopback test client must not relay, though it is in mynetworks).
        merged = {**config.postfix_settings(self.database, layout), **instance}
        return "".join(f"{key} = {value}\n" for key, value in merged.items())

    def _apply_to_stock_main_cf(self, snippet: str) -> None:
        """The README's step 3 (`adminpanel mailserver-postconf`) on a copy of a stock main.cf:
        each generated setting, the restriction lists merged with what the copy has, then only
        what a private instance cannot share with the system's Postfix (its queue, data, log and
        listening address). Relay rules, mynetworks, mydestination and every other stock value
        stay as the package (or the operator) wrote them."""
        main_cf = self.postfix_dir / "main.cf"
        main_cf.write_text(self.stock_main_cf or "")
        plumbing = {
            "queue_directory": self.dir / "spool",
            "data_directory": self.dir / "pfdata",
            "maillog_file": self.log_dir / "postfix.log",
            "maillog_file_prefixes": self.dir,
            "inet_interfaces": "loopback-only",
            "inet_protocols": "ipv4",
            "relayhost": self.relayhost,
            # The tests speak as an outside client (XCLIENT ADDR=…): loopback is in the stock
            # mynetworks, which may relay.
            "smtpd_authorized_xclient_hosts": "127.0.0.1",
        }
        try:
            postconf.apply(self.postfix_dir, postconf.settings_of(snippet), postconf.run_command)
        except subprocess.CalledProcessError as error:
            raise MailServerError(f"postconf failed: {error.stderr}") from None
        for key, value in plumbing.items():
            self._run("postconf", "-c", str(self.postfix_dir), "-e", f"{key} = {value}")

    def _add_services(self, generated: str) -> None:
        """The README's step 3 for master.cf (`adminpanel mailserver-postconf`): each generated
        service set with `postconf -M -e`."""
        try:
            postconf.apply_services(
                self.postfix_dir, postconf.services_of(generated), postconf.run_command
            )
        except subprocess.CalledProcessError as error:
            raise MailServerError(f"postconf failed: {error.stderr}") from None

    def _dovecot_conf(self) -> str:
        return private_dovecot_conf(
            self.dir,
            self.dovecot_version,
            imap_port=self.imap_port,
            outgoing_port=self.outgoing_port,
            trial_auth=self.trial_auth,
            auth_cache_size=self.auth_cache_size,
        )

    def write_files(self) -> None:
        ensure_vmail_user()
        if (
            self.database.vendor == "sqlite"
            and not self.postfix_reads_sqlite
            and self.lookup is None
        ):
            self.lookup = LookupServer(self.database.name)
        if self.policy is None:
            self.policy = PolicyServer(self.limits)
        if self.sender_check is None:
            self.sender_check = SenderCheckServer(self.database)
        if self.room is None:
            self.room = RoomServer(self.database)
        layout = replace(
            self.layout(),
            policy_address=self.policy.address,
            sender_check_address=self.sender_check.address,
            room_address=self.room.address,
        )
        if self.lookup is not None:
            layout = replace(layout, lookup_address=self.lookup.address)
        self.dir.mkdir(mode=0o755, parents=True, exist_ok=True)
        self.dir.chmod(0o755)
        if not self.certfile:
            trial_certificate(self.dir / "tls", self.hostname)
        files = config.render(self.database, layout)
        files["opendkim/opendkim.conf"] = (
            dkim.opendkim_conf(
                layout.dkim_tables,
                port=layout.milter_port,
                pid_file=layout.dkim_pid_file,
                under_tmp=True,
            ),
            config.PUBLIC,
        )
        config.write(files, self.dir)
        self.log_dir.mkdir(mode=0o755, exist_ok=True)
        if self.stock_main_cf is None:
            (self.postfix_dir / "main.cf").write_text(self._main_cf(layout))
        else:
            self._apply_to_stock_main_cf(files["postfix/main.cf"][0])
        (self.postfix_dir / "master.cf").write_text(_master_cf(self.smtp_port, self.outgoing_port))
        self._add_services(files["postfix/master.cf"][0])
        self.dovecot_conf.write_text(self._dovecot_conf())
        # Postfix daemons (user postfix) read the pgsql: files; they hold a password.
        postfix_gid = grp.getgrnam("postfix").gr_gid
        for path in self.postfix_dir.glob("*.cf"):
            if path.stat().st_mode & 0o077 == 0:
                os.chown(path, 0, postfix_gid)
                path.chmod(0o640)
        # Dovecot's dict process (user dovecot) reads the dicts' files; on PostgreSQL they hold
        # a password (on SQLite the dict runs as the database's owner and they hold none).
        for name in ["usage-dict.conf.ext", "sieve-dict.conf.ext"]:
            dict_file = self.dir / "dovecot" / name
            if dict_file.stat().st_mode & 0o077 == 0:
                os.chown(dict_file, 0, grp.getgrnam("dovecot").gr_gid)
                dict_file.chmod(0o640)
        for name in ["spool", "log", "state"]:
            (self.dir / name).mkdir(mode=0o755, exist_ok=True)
        shutil.rmtree(self.dir / "run", ignore_errors=True)  # stale sockets break Dovecot
        (self.dir / "run").mkdir(mode=0o755)
        pfdata = self.dir / "pfdata"
        pfdata.mkdir(mode=0o700, exist_ok=True)
        shutil.chown(pfdata, "postfix", "postfix")
        self.mail_root.mkdir(mode=0o755, exist_ok=True)
        shutil.chown(self.mail_root, VMAIL, VMAIL)
        for path in [self.dir, *self.dir.iterdir()]:
            if path.is_dir() and path.name != "pfdata":
                path.chmod(0o755)

    # --- running ---------------------------------------------------------------------------

    def _run(self, *argv: str) -> None:
        # Output to a file, not a pipe: the daemons inherit it and would hold a pipe open.
        with (self.log_dir / "commands.log").open("a+") as output:
            start = output.tell()
            done = subprocess.run(  # noqa: S603 - our own commands, no shell
                [program(argv[0]) or argv[0], *argv[1:]],
                stdout=output,
                stderr=subprocess.STDOUT,
                timeout=120,
                check=False,
            )
            output.seek(start)
            said = output.read()
        if done.returncode != 0:
            raise MailServerError(
                f"{' '.join(argv)} failed ({done.returncode}): {said}\n{self.log_tail()}"
            )

    def log_tail(self, lines: int = 30) -> str:
        text = []
        for log in sorted(self.log_dir.glob("*.log")) if self.log_dir.exists() else []:
            tail = log.read_text(errors="replace").splitlines()[-lines:]
            text.append(f"--- {log.name}\n" + "\n".join(tail))
        return "\n".join(text)

    def start(self) -> PrivateMailServer:
        """Write the files and start everything; stops what started if a part fails."""
        missing = missing_programs()
        if missing:
            raise MailServerError(
                "Not installed: " + ", ".join(missing) + ". Install Debian's postfix "
                "postfix-pgsql postfix-sqlite dovecot-imapd dovecot-lmtpd dovecot-pgsql "
                "dovecot-sqlite dovecot-sieve opendkim (see README: Connect your mail server)."
            )
        self._check_ports()
        try:
            self.write_files()
            if self.lookup is not None:
                self.lookup.start()
            if self.policy is not None and not self.policy.serving:
                self.policy.start()
            if self.sender_check is not None and not self.sender_check.serving:
                self.sender_check.start()
            if self.room is not None and not self.room.serving:
                self.room.start()
            self._run("dovecot", "-c", str(self.dovecot_conf))
            self.dovecot_started = True
            self._start_opendkim()
            self._run("postfix", "-c", str(self.postfix_dir), "start")
            self.postfix_started = True
            self._wait_for(self.smtp_port, b"220 ")
            self._wait_for(self.submission_port, b"220 ")
            self._wait_for(self.imap_port, b"* OK")
            self._start_purging()
        except BaseException:
            self.stop()
            raise
        return self

    def _start_purging(self) -> None:
        """The mail host's purge (mailserver-purge) and the end of the IMAP sessions the panel
        asked for (mailserver-end-sessions), every PURGE_SECONDS while this runs."""
        self.stop_purging.clear()

        def run() -> None:
            while not self.stop_purging.wait(PURGE_SECONDS):
                try:
                    purge.purge_due(self.database, self.mail_root)
                    sessions.end_requested(self.database, self.doveadm, self.mail_host_name)
                    self.sync_dkim()
                except (
                    purge.PurgeError,
                    sessions.EndSessionsError,
                    dkim.DkimError,
                    OSError,
                    subprocess.SubprocessError,
                    *purge.DATABASE_ERRORS,
                ) as error:
                    self._log_background_error(error)

        self.purging = threading.Thread(target=run, name="purge", daemon=True)
        self.purging.start()

    def _log_background_error(self, error: Exception) -> None:
        with (self.log_dir / "purge.log").open("a") as log:
            log.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {error}\n")

    # --- the DKIM signer (mailserver.dkim) -----------------------------------------------------

    def sync_dkim(self) -> bool:
        """OpenDKIM's tables from the panel's keys, as `mailserver-dkim` does on a mail host;
        whether they changed (then OpenDKIM was told to reload)."""
        layout = self.layout()
        changed = dkim.sync(
            purge.connect_for_housekeeping(self.database),
            layout.dkim_tables,
            settings.DKIM_ENCRYPTION_KEYS,
            layout.dkim_pid_file,
        )
        self.dkim_syncs += 1
        return changed

    def _start_opendkim(self) -> None:
        """OpenDKIM from the generated opendkim.conf (it forks; its pid in run/opendkim.pid)."""
        try:
            self.sync_dkim()
        except (dkim.DkimError, *purge.DATABASE_ERRORS) as error:
            # A database not migrated yet, keys it cannot read: OpenDKIM starts with no key (it
            # refuses to start without its tables) and the sync every second tries again.
            dkim.write_tables(dkim.tables([], [], self.dkim_dir), self.dkim_dir)
            self._log_background_error(error)
        self._run("opendkim", "-x", str(self.dkim_dir / "opendkim.conf"))
        pid_file = self.layout().dkim_pid_file
        deadline = time.monotonic() + 30
        while not pid_file.exists() or not pid_file.read_text().strip():
            if time.monotonic() > deadline:
                raise MailServerError(f"opendkim wrote no pid file\n{self.log_tail()}")
            time.sleep(0.05)
        self.opendkim_pid = int(pid_file.read_text().split()[0])
        self._wait_for_listener(self.milter_port)

    def _stop_opendkim(self) -> None:
        if self.opendkim_pid is None:
            return
        try:
            os.kill(self.opendkim_pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.kill(self.opendkim_pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        self.opendkim_pid = None

    def _wait_for_listener(self, port: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=5):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise MailServerError(f"nothing listens on 127.0.0.1:{port}") from None
                time.sleep(0.05)

    def _check_ports(self) -> None:
        """One clear line before anything starts, not Postfix's "fatal: bind" in its log."""
        ports = [self.smtp_port, self.imap_port, self.outgoing_port, self.submission_port]
        ports += [self.submissions_port] if self.submissions_port else []
        if len(set(ports)) < len(ports):
            raise MailServerError(
                f"SMTP ({self.smtp_port}), IMAP ({self.imap_port}), submission "
                f"({self.submission_port}), submissions ({self.submissions_port or 'off'}) "
                f"and outgoing mail ({self.outgoing_port}) each need a port of their own."
            )
        listeners = [
            (self.smtp_port, "SMTP", "--smtp-port (make mailserver SMTP_PORT=…)"),
            (self.imap_port, "IMAP", "--imap-port (make mailserver IMAP_PORT=…)"),
            (self.submission_port, "submission", "--submission-port"),
        ]
        if self.submissions_port:
            listeners.append((self.submissions_port, "submissions", "--submissions-port"))
        for port, role, option in listeners:
            line = cannot_listen("127.0.0.1", port, what=role, choose=option)
            if line:
                raise MailServerError(line)

    def _wait_for(self, port: int, banner: bytes, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
                    if conn.recv(200).startswith(banner):
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise MailServerError(f"nothing answers on 127.0.0.1:{port}\n{self.log_tail()}")
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop Postfix, Dovecot and the lookup server; safe to call twice."""
        errors = []
        if self.purging is not None:
            self.stop_purging.set()
            self.purging.join()
            self.purging = None
        if self.postfix_started:
            try:
                self._run("postfix", "-c", str(self.postfix_dir), "stop")
            except MailServerError as error:
                errors.append(str(error))
            self.postfix_started = False
        if self.dovecot_started:
            try:
                self._run("doveadm", "-c", str(self.dovecot_conf), "stop")
            except MailServerError as error:
                errors.append(str(error))
            self.dovecot_started = False
        self._stop_opendkim()
        if self.lookup is not None:
            self.lookup.stop()
            self.lookup = None
        if self.policy is not None:
            self.policy.stop()
            self.policy = None
        if self.sender_check is not None:
            self.sender_check.stop()
            self.sender_check = None
        if self.room is not None:
            self.room.stop()
            self.room = None
        if errors:
            raise MailServerError("\n".join(errors))

    def __enter__(self) -> PrivateMailServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
