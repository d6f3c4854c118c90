"""The DKIM signer, on the mail host (SPEC §15): OpenDKIM as a Postfix milter, fed the panel's
keys by `adminpanel mailserver-dkim` (mailserver-run does it itself).

Why OpenDKIM: it signs and does nothing else (one small daemon, Debian's `opendkim`), where
Rspamd would bring a spam filter, Redis and a web UI of its own to sign a header.

How the key gets there: the panel may not run where the mail servers run, so, as for the purge
and the end of IMAP sessions, the mail host comes to the database with the mail role and reads
a contract view, mailserver_dkim_keys(domain, selector, private_key). The private key there is
the panel's ciphertext (Fernet, DKIM_ENCRYPTION_KEYS); this host, given those keys and nothing
else of the panel's secrets (not the keys of TOTP secrets), decrypts it into a key file
readable by the opendkim group only, names it in OpenDKIM's KeyTable, and tells OpenDKIM to
reload (SIGUSR1) when a key changed. A database dump or the mail role alone yield no key.

What gets signed: only mail from clients that logged in (SMTP AUTH, Postfix's {auth_type}),
never mail arriving from outside. OpenDKIM also signs for its InternalHosts, 127.0.0.1 unless
told otherwise, which would sign whatever a local client or a content filter on loopback
hands over: here InternalHosts is an empty list.
"""

from __future__ import annotations

import grp
import os
import re
import signal
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from cryptography.fernet import InvalidToken

from adminpanel import crypto

DUE = "SELECT domain, selector, private_key FROM mailserver_dkim_keys ORDER BY domain"
KEY_TABLE = "key.table"
KEYS = "keys"  # one PEM file per domain and selector
SIGNING_TABLE = "signing.table"
INTERNAL_HOSTS = "internal-hosts"
MILTER_PORT = 8891
DEBIAN_TABLES = Path("/etc/opendkim/adminpanel")
DEBIAN_PID_FILE = Path("/run/opendkim/opendkim.pid")
DOMAIN = re.compile(r"\A[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?\Z")
SELECTOR = re.compile(r"\A[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\Z")
BASE64 = re.compile(r"\A[A-Za-z0-9+/]+={0,2}\Z")


class DkimError(Exception):
    pass


def opendkim_conf(
    tables: Path,
    *,
    port: int = MILTER_PORT,
    pid_file: Path = DEBIAN_PID_FILE,
    foreground: bool = False,
    under_tmp: bool = False,
) -> str:
    """opendkim.conf: sign only (no verifying of incoming mail), keys from `tables`.
    `under_tmp`: the tables live in a directory under /tmp (a private trial), which OpenDKIM's
    key check counts as unsafe (world-writable, its sticky bit notwithstanding) and then fails
    every message with "451 4.7.1 Service unavailable", saying why only to syslog."""
    trial = (
        "# A trial under /tmp: its key files are 0640 root:opendkim in root's 0755 directories.\n"
        "RequireSafeKeys\t\tno\n"
        if under_tmp
        else ""
    )
    return (
        trial
        + f"""# Written by `adminpanel mailserver-config`: OpenDKIM signs the mail that logged-in
# clients send from the panel's domains. `adminpanel mailserver-dkim` writes its tables.
Mode			s
Socket			inet:{port}@127.0.0.1
PidFile			{pid_file}
UserID			opendkim
UMask			007
Background		{"no" if foreground else "yes"}
Syslog			yes
KeyTable		file:{tables}/{KEY_TABLE}
SigningTable		file:{tables}/{SIGNING_TABLE}
# Empty: no client is signed for by its address (the default, 127.0.0.1, would sign mail that
# a local process or a filter on loopback passes on); only a login ({{auth_type}}) counts.
InternalHosts		file:{tables}/{INTERNAL_HOSTS}
Canonicalization	relaxed/simple
SignatureAlgorithm	rsa-sha256
# From: signed once more than it occurs, so nobody can add a second one to a signed message.
OversignHeaders		From
"""
    )


def postfix_settings(port: int = MILTER_PORT) -> dict[str, str]:
    """main.cf: every smtpd hands mail to OpenDKIM, which signs only the logged-in clients'.
    If OpenDKIM is down, mail goes on unsigned ("accept"): incoming mail must never wait for
    the signer."""
    return {
        "smtpd_milters": f"inet:127.0.0.1:{port}",
        "milter_default_action": "accept",
    }


def _pem(der_base64: str) -> str:
    lines = [der_base64[i : i + 64] for i in range(0, len(der_base64), 64)]
    return "-----BEGIN PRIVATE KEY-----\n" + "\n".join(lines) + "\n-----END PRIVATE KEY-----\n"


def tables(
    rows: Iterable[tuple[str, str, str]], keys: Sequence[str], directory: Path
) -> dict[str, str]:
    """OpenDKIM's files under `directory`, by relative path, from the view's rows (domain,
    selector, encrypted key), each key decrypted with `keys` (DKIM_ENCRYPTION_KEYS). A key goes
    in a file of its own, named by path in the KeyTable: OpenDKIM reads a table's lines into a
    1 kB buffer, too short for a 2048-bit key written inline (it then fails every message with
    "451 4.7.0 resource unavailable")."""
    files: dict[str, str] = {}
    key_lines, signing_lines = [], []
    for domain, selector, encrypted in rows:
        if not DOMAIN.match(domain) or not SELECTOR.match(selector):
            raise DkimError(
                f"not a domain and selector OpenDKIM can take: {domain!r}, {selector!r}"
            )
        try:
            private = crypto.decrypt(encrypted, keys)
        except (InvalidToken, ValueError, TypeError):
            raise DkimError(
                f"The DKIM key of {domain} cannot be decrypted here: give this host the panel's "
                "ADMINPANEL_DKIM_ENCRYPTION_KEYS (README: Connect your mail server)."
            ) from None
        if not BASE64.match(private):
            raise DkimError(f"The DKIM key of {domain} is not a key.")
        key_file = f"{KEYS}/{domain}.{selector}.pem"
        files[key_file] = _pem(private)
        key_lines.append(f"{domain} {domain}:{selector}:{directory / key_file}\n")
        # Keyed by the From: address's domain (OpenDKIM looks up user@domain, then domain).
        signing_lines.append(f"{domain} {domain}\n")
    files.update(
        {
            KEY_TABLE: "".join(key_lines),
            SIGNING_TABLE: "".join(signing_lines),
            INTERNAL_HOSTS: "",
        }
    )
    return files


def _write_if_changed(path: Path, text: str, gid: int) -> bool:
    """Replace the file atomically (OpenDKIM may be reading it) when its text changed; mode
    0640, group `gid` (OpenDKIM reads it again as its own user on reload)."""
    try:
        if path.read_text() == text:
            return False
    except FileNotFoundError:
        pass
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchown(fd, 0 if os.geteuid() == 0 else -1, gid if os.geteuid() == 0 else -1)
        os.fchmod(fd, 0o640)
        with os.fdopen(fd, "w") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return True


def write_tables(files: dict[str, str], directory: Path) -> bool:
    """Write the files into `directory`; whether anything changed. Keys first, then the tables
    naming them. A key file no longer named stays until prune_keys: the running OpenDKIM
    signs with it until it has read the new tables."""
    try:
        gid = grp.getgrnam("opendkim").gr_gid
    except KeyError:
        raise DkimError("There is no opendkim group: install Debian's opendkim.") from None
    for folder in (directory, directory / KEYS):
        folder.mkdir(mode=0o750, parents=True, exist_ok=True)
        if os.geteuid() == 0:
            os.chown(folder, 0, gid)
            folder.chmod(0o750)
    changed = False
    for name in sorted(files, key=lambda name: not name.startswith(f"{KEYS}/")):
        changed = _write_if_changed(directory / name, files[name], gid) or changed
    return changed


def prune_keys(files: dict[str, str], directory: Path) -> None:
    """Remove the key files the tables no longer name (a rotated or deleted domain's key)."""
    keys = directory / KEYS
    for old in keys.iterdir() if keys.is_dir() else ():
        if f"{KEYS}/{old.name}" not in files:
            old.unlink()


def reload(pid_file: Path) -> bool:
    """Ask the running OpenDKIM to read its tables again (SIGUSR1); False if none runs."""
    try:
        pid = int(pid_file.read_text().split()[0])
        os.kill(pid, signal.SIGUSR1)
    except (FileNotFoundError, IndexError, ValueError, ProcessLookupError):
        return False
    return True


def sync(connection, directory: Path, keys: Sequence[str], pid_file: Path) -> bool:
    """Bring OpenDKIM's tables up to the panel's keys, read on `connection` (a DB-API
    connection as the mail role, mailserver.purge.connect; closed here); reload OpenDKIM when
    they changed. Returns whether they changed."""
    try:
        cursor = connection.cursor()
        cursor.execute(DUE)
        rows = [(str(d), str(s), str(k)) for d, s, k in cursor.fetchall()]
        connection.commit()
    finally:
        connection.close()
    files = tables(rows, keys, directory)
    changed = write_tables(files, directory)
    if changed:
        reload(pid_file)
    else:
        # A round after the reload (the sync runs every second or so), the running OpenDKIM
        # reads the new tables: removing a rotated key in the same round left a message sent
        # in between unsigned, its key file gone (seen once in CI after a rotation).
        prune_keys(files, directory)
    return changed
