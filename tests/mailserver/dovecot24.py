"""Debian 13's Dovecot 2.4, run from the cached trixie root (testbed/trixie.py) against the
Dovecot files `mailserver-config --dovecot-version 2.4` writes and the tests' database.

The instance lives in the root's /run/adminpanel-XXXX (Dovecot's paths are the root's); its
IMAP port is on the host's loopback (a chroot shares the network), its LMTP and auth sockets
are reached from the host through the root's directory. On SQLite the database's directory is
bind-mounted into the root at its own path; PostgreSQL is reached over TCP. The auth policy
server (mailserver.policy) runs on the host, as `mailserver-policy` would.
"""

from __future__ import annotations

import base64
import os
import secrets
import shutil
import socket
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import psycopg
from django.conf import settings

from adminpanel.mailserver import config, sessions
from adminpanel.mailserver.instance import VMAIL_ID, private_dovecot_conf, trial_certificate
from adminpanel.mailserver.policy import Limits, PolicyServer
from testbed.postgres import free_port


class ChrootedDovecot:
    """Dovecot 2.4 in the root at `root`, from the generated files; a context manager."""

    def __init__(self, root: Path, database: config.Database, *, outgoing_port: int):
        self.root = root
        self.database = database
        self.outgoing_port = outgoing_port  # where Sieve's forwards and replies go (SMTP)
        self.imap_port = free_port()
        self.inside = Path("/run") / f"adminpanel-{secrets.token_hex(4)}"  # as Dovecot sees it
        self.dir = root / self.inside.relative_to("/")  # as the host sees it
        self.mounts: list[Path] = []
        self.policy: PolicyServer | None = None
        self.started = False
        self.ending: threading.Thread | None = None
        self.stop_ending = threading.Event()
        self.database_errors: list[Exception] = []

    @property
    def mail_host_name(self) -> str:
        """Another mail host than the session's own on the same database: it ends its own
        Dovecot's sessions (sessions.end_requested)."""
        return f"dovecot-2.4:{self.inside}"

    @property
    def conf(self) -> Path:
        return self.inside / "dovecot" / "dovecot.conf"

    @property
    def doveadm(self) -> list[str]:
        return ["chroot", str(self.root), "doveadm", "-c", str(self.conf)]

    @property
    def lmtp_socket(self) -> str:
        return str(self.dir / "run" / "adminpanel-lmtp")

    @property
    def quota_status_socket(self) -> str:
        return str(self.dir / "run" / "adminpanel-quota-status")

    @property
    def auth_socket(self) -> str:
        return str(self.dir / "run" / "adminpanel-auth")

    def layout(self) -> config.Layout:
        assert self.policy is not None
        return config.Layout(
            postfix_dir=self.inside / "postfix",
            dovecot_dir=self.inside / "dovecot",
            mail_root=self.inside / "mail",
            lmtp_for_postfix="",
            lmtp_listener="adminpanel-lmtp",
            quota_status_for_postfix="",
            quota_status_listener="adminpanel-quota-status",
            policy_address=self.policy.address,
            sasl_listener="adminpanel-auth",
            # The root has no postfix user; the test's own clients run as root.
            listener_owner=("root", "root"),
            vmail_uid=VMAIL_ID,
            certfile=str(self.inside / "tls" / "cert.pem"),
            keyfile=str(self.inside / "tls" / "key.pem"),
            app_password_pepper=settings.APP_PASSWORD_PEPPER,
            dovecot_version="2.4",
        )

    def _mount_database(self) -> None:
        if self.database.vendor != "sqlite":
            return
        directory = Path(self.database.name).parent
        target = self.root / directory.relative_to("/")
        target.mkdir(parents=True, exist_ok=True)
        subprocess.run(["mount", "--bind", str(directory), str(target)], check=True)  # noqa: S603, S607
        self.mounts.append(target)

    def _chroot(self, *argv: str) -> str:
        """Run a program of the root; what it said, after an assertion that it worked. Its
        output goes to a file, not a pipe: the daemons it starts would hold a pipe open."""
        with (self.dir / "log" / "commands.log").open("a+") as output:
            start = output.tell()
            done = subprocess.run(  # noqa: S603 - fixed programs, our own paths
                ["chroot", str(self.root), *argv],  # noqa: S607
                stdout=output,
                stderr=subprocess.STDOUT,
                timeout=60,
                check=False,
            )
            output.seek(start)
            said = output.read()
        assert done.returncode == 0, f"{' '.join(argv)}: {said}\n{self.log()}"
        return said

    def log(self) -> str:
        path = self.dir / "log" / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def start(self) -> ChrootedDovecot:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        self.policy = PolicyServer(Limits(self.database))
        self.policy.start()
        for name in ["dovecot", "run", "state", "log", "mail"]:
            (self.dir / name).mkdir(mode=0o755, parents=True, exist_ok=True)
        os.chown(self.dir / "mail", VMAIL_ID, VMAIL_ID)
        # IMAP's STARTTLS with a certificate of the test's own (tls_context trusts it).
        trial_certificate(self.dir / "tls", "localhost")
        self._mount_database()
        config.write(config.dovecot_files(self.database, self.layout()), self.dir)
        (self.dir / "dovecot" / "dovecot.conf").write_text(
            private_dovecot_conf(
                self.inside, "2.4", imap_port=self.imap_port, outgoing_port=self.outgoing_port
            )
        )
        self.started = True  # from here on, stop() stops it
        self._chroot("dovecot", "-c", str(self.conf))
        deadline = time.monotonic() + 60
        while not self._answers():
            assert time.monotonic() < deadline, "Dovecot 2.4 never answered\n" + self.log()
            time.sleep(0.05)
        # The IMAP sessions the panel asks to end, by 2.4's `doveadm kick`, as
        # `mailserver-end-sessions` does on a mail host (and mailserver-run every second).
        self.stop_ending.clear()
        self.ending = threading.Thread(target=self._end_sessions, daemon=True)
        self.ending.start()

    def _end_sessions(self) -> None:
        while not self.stop_ending.wait(0.5):
            try:
                sessions.end_requested(self.database, self.doveadm, self.mail_host_name)
            except sessions.EndSessionsError as error:
                with (self.dir / "log" / "end-sessions.log").open("a") as log:
                    log.write(f"{error}\n")
            except psycopg.errors.LockNotAvailable:
                pass  # it gave way to the flush after a test, as to a migration: the next turn
            except (sqlite3.Error, psycopg.Error) as error:
                # The session's own mail host ends the same requests on the same database, each
                # under its own name: neither may fail (stop() says so).
                self.database_errors.append(error)

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.imap_port), timeout=5) as conn:
                return conn.recv(100).startswith(b"* OK")
        except OSError:
            return False

    def stop(self) -> None:
        if self.ending is not None:
            self.stop_ending.set()
            self.ending.join()
            self.ending = None
        errors, self.database_errors = self.database_errors, []
        if self.started:
            self.started = False
            pid_file = self.dir / "run" / "master.pid"
            if pid_file.exists():
                self._chroot("doveadm", "-c", str(self.conf), "stop")
        if self.policy is not None:
            self.policy.stop()
            self.policy = None
        for target in self.mounts:
            subprocess.run(["umount", str(target)], check=True)  # noqa: S603, S607
            target.rmdir()  # the mount point, empty again; nothing else of the root goes
        self.mounts.clear()
        shutil.rmtree(self.dir, ignore_errors=True)
        assert not errors, f"ending sessions beside another mail host failed: {errors}"

    def __enter__(self) -> ChrootedDovecot:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def sasl_login(dovecot: ChrootedDovecot, address: str, password: str) -> str:
    """What Dovecot's auth socket for Postfix answers an SMTP AUTH PLAIN: "OK" or "FAIL"
    (Dovecot's auth protocol, as Postfix's smtpd speaks it over TLS)."""
    plain = base64.b64encode(b"\0" + address.encode() + b"\0" + password.encode()).decode()
    with socket.socket(socket.AF_UNIX) as conn:
        conn.settimeout(30)
        conn.connect(dovecot.auth_socket)
        conn.sendall(f"VERSION\t1\t2\nCPID\t{os.getpid()}\n".encode())
        said = b""
        while b"\nDONE\n" not in said:
            said += conn.recv(4096)
        request = f"AUTH\t1\tPLAIN\tservice=smtp\tsecured\tnologin\trip=127.0.0.1\tresp={plain}\n"
        conn.sendall(request.encode())
        answer = b""
        while not answer.endswith(b"\n"):
            answer += conn.recv(4096)
    return answer.decode().split("\t", 1)[0]


def quota_status(dovecot: ChrootedDovecot, recipient: str, size: int) -> str:
    """What Dovecot's quota-status service answers Postfix's policy request for a message of
    this size (the action Postfix would take at RCPT TO)."""
    request = f"request=smtpd_access_policy\nrecipient={recipient}\nsize={size}\n\n"
    with socket.socket(socket.AF_UNIX) as conn:
        conn.settimeout(30)
        conn.connect(dovecot.quota_status_socket)
        conn.sendall(request.encode())
        answer = b""
        while not answer.endswith(b"\n\n"):
            answer += conn.recv(4096)
    return answer.decode().strip().removeprefix("action=")
