"""A Debian 13 (trixie) root holding Debian 13's Dovecot 2.4 and Postfix 3.10, for the tests
that run the generated settings for Debian 13 on a Debian 12 machine
(tests/mailserver/test_dovecot24.py, tests/mailserver/test_postfix310.py), and its Python 3.13
with `python3-venv` and `make`, for the README's Quickstart run as written
(tests/debian13/test_quickstart.py).

Built once with debootstrap from the mirror the machine's apt already uses (about a minute and a
half, 300 MB), into a fixed directory outside the repository named after its package list; later
runs find it there and pay nothing. Two test lanes starting at once: one builds, the other waits on
a lock. A half-built root (an interrupted run) is never used: the build goes to a sibling
directory and is renamed into place when complete.

Dovecot runs inside with `chroot ROOT dovecot -c FILE`; the chroot shares the kernel and the
loopback network with the host, so its listeners are on the host's 127.0.0.1. What it must read
from the host (the SQLite database, PostgreSQL's socket) is bind-mounted in by the caller.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

CACHE = Path(os.environ.get("ADMINPANEL_TEST_CACHE", "/var/cache/adminpanel-tests"))
SUITE = "trixie"
PACKAGES = (
    "dovecot-core",
    "dovecot-imapd",
    "dovecot-lmtpd",
    "dovecot-pgsql",
    "dovecot-sqlite",
    "dovecot-sieve",
    "postfix",
    "postfix-pgsql",
    "postfix-sqlite",
    # The README's Quickstart (tests/debian13): Python 3.13, its venv and make, and the CA list
    # pip checks the index against (on every Debian install but debootstrap's minbase).
    "python3",
    "python3-venv",
    "make",
    "ca-certificates",
)
SOURCES = Path("/etc/apt/sources.list.d/debian.sources")
SOURCES_LIST = Path("/etc/apt/sources.list")
DEFAULT_MIRROR = "http://deb.debian.org/debian"
VMAIL_ID = 5000
COMPLETE = ".adminpanel-complete"


class RootError(Exception):
    pass


def root_path() -> Path:
    key = hashlib.sha256(" ".join((SUITE, *PACKAGES)).encode()).hexdigest()[:12]
    # Named after the package list: a root built for another list is never taken for this one.
    return CACHE / f"{SUITE}-mail-{key}"


def mirror() -> str:
    """The Debian mirror the machine's apt uses (so a machine behind a proxy or a local mirror
    builds from it), else deb.debian.org."""
    if SOURCES.is_file():
        for line in SOURCES.read_text().splitlines():
            if line.startswith("URIs:") and "security" not in line:
                return line.split()[1]
    if SOURCES_LIST.is_file():
        for line in SOURCES_LIST.read_text().splitlines():
            words = line.split()
            if len(words) > 2 and words[0] == "deb" and "security" not in words[1]:
                return words[1] if not words[1].startswith("[") else words[2]
    return DEFAULT_MIRROR


def _run(argv: list[str], *, log: Path) -> None:
    with log.open("a") as output:
        done = subprocess.run(argv, stdout=output, stderr=subprocess.STDOUT, check=False)  # noqa: S603
    if done.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
        raise RootError(f"{' '.join(argv)} failed ({done.returncode}):\n{tail}")


def _debootstrap() -> str:
    found = shutil.which("debootstrap", path="/usr/sbin:/usr/bin:/sbin:/bin")
    if found:
        return found
    raise RootError(
        "debootstrap is not installed: `make system-packages` (or apt-get install debootstrap)"
    )


def _build(staging: Path, log: Path) -> None:
    shutil.rmtree(staging, ignore_errors=True)
    _run(
        [
            _debootstrap(),
            "--variant=minbase",
            "--include=" + ",".join(PACKAGES),
            SUITE,
            str(staging),
            mirror(),
        ],
        log=log,
    )
    # The maildirs' owner, as on the host (uid/gid 5000).
    _run(["chroot", str(staging), "groupadd", "-g", str(VMAIL_ID), "vmail"], log=log)
    _run(
        [
            "chroot", str(staging), "useradd", "-r", "-u", str(VMAIL_ID), "-g", "vmail",
            "-d", "/nonexistent", "-M", "-s", "/usr/sbin/nologin", "vmail",
        ],
        log=log,
    )  # fmt: skip
    # Only what the tests need: apt's downloaded packages go.
    shutil.rmtree(staging / "var" / "cache" / "apt" / "archives", ignore_errors=True)
    (staging / COMPLETE).write_text(" ".join(PACKAGES) + "\n")


def ensure_root() -> Path:
    """The Debian 13 root with Dovecot 2.4 and Postfix 3.10 (built on first use, then
    reused)."""
    root = root_path()
    if (root / COMPLETE).is_file():
        return root
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / f"{root.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the other lane waits for this one's build
        if not (root / COMPLETE).is_file():
            staging = CACHE / f"{root.name}.building"
            log = CACHE / f"{root.name}.log"
            log.write_text("")
            _build(staging, log)
            shutil.rmtree(root, ignore_errors=True)
            staging.rename(root)
    return root


def dovecot_version(root: Path) -> str:
    done = subprocess.run(  # noqa: S603 - fixed arguments
        ["chroot", str(root), "dovecot", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def postfix_version(root: Path) -> str:
    done = subprocess.run(  # noqa: S603 - fixed arguments
        ["chroot", str(root), "postconf", "-h", "mail_version"],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


if __name__ == "__main__":
    built = ensure_root()
    print(built, "Dovecot", dovecot_version(built), "Postfix", postfix_version(built))
