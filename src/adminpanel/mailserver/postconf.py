"""The generated main.cf settings put into a Postfix's own main.cf, and the generated master.cf
services (submission, submissions) into its master.cf (README step 3, `adminpanel
mailserver-postconf`), keeping what the operator set there.

Most settings are the panel's to set (its lookup tables, its transport): they replace what was
there. The restriction lists are shared: the operator's own entries (an SPF policy, a client
blocklist…) stay, after the panel's, and Debian's `defer_unauth_destination` becomes
`reject_unauth_destination` (SPEC §10 promises a permanent refusal). Entries the panel wrote
before are recognised and replaced, so running it again changes nothing.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from adminpanel.mailserver.config import SUBMISSION_MILTERS

# Restriction lists the operator may have filled, merged rather than replaced; and the
# submission services' milters, where the operator appends a signer (README: More milters).
SHARED = {
    "smtpd_recipient_restrictions",
    "smtpd_end_of_data_restrictions",
    "smtpd_relay_restrictions",
    "smtpd_restriction_classes",
    SUBMISSION_MILTERS,
}
# Restrictions that take the next word as their argument (a table, a server, a seconds count).
TAKES_ARGUMENT = re.compile(
    r"\A(check_(?!relay_domains\Z)\w+|reject_rbl_client|reject_rhsbl_\w+|permit_dnswl_client"
    r"|permit_rhswl_client|sleep)\Z"
)
ENDPOINT = re.compile(r"(?:socketmap:)?inet:[^\s,{}]+:\d+")


def words(value: str) -> list[str]:
    """A Postfix list split at commas and white space, a `{ … }` group kept whole."""
    found, depth, current = [], 0, ""
    for char in value:
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth == 0 and (char == "," or char.isspace()):
            if current:
                found.append(current)
            current = ""
        elif depth or not char.isspace():
            current += char
    if current:
        found.append(current)
    return found


def restrictions(value: str) -> list[str]:
    """The entries of a restriction list, each with its argument ("check_… TABLE")."""
    entries: list[str] = []
    pending = ""
    for word in words(value):
        if pending:
            entries.append(f"{pending} {word}")
            pending = ""
        elif TAKES_ARGUMENT.match(word):
            pending = word
        else:
            entries.append(word)
    if pending:
        entries.append(pending)
    return entries


def merge(name: str, current: str, generated: str, elsewhere: frozenset[str] = frozenset()) -> str:
    """The value of one setting with the panel's entries and the operator's own. `elsewhere`:
    the endpoints of the panel's services named by its other settings; an entry naming one is
    the panel's too (a service that moved, e.g. the From: check from 7522 to 7523)."""
    ours = restrictions(generated)
    if name not in SHARED or not current.strip():
        return generated
    theirs = restrictions(current)
    if name == "smtpd_relay_restrictions":
        kept = [
            "reject_unauth_destination" if e == "defer_unauth_destination" else e for e in theirs
        ]
        if "reject_unauth_destination" not in kept:
            kept.append("reject_unauth_destination")
        return ", ".join(kept)
    endpoints = {match for entry in ours for match in ENDPOINT.findall(entry)} | elsewhere

    def panels(entry: str) -> bool:
        return (
            entry in ours
            or "adminpanel" in entry
            or any(endpoint in entry for endpoint in endpoints)
        )

    if name == "smtpd_restriction_classes":
        return ", ".join([e for e in theirs if e not in ours] + ours)
    return ", ".join(ours + [e for e in theirs if not panels(e)])


def settings_of(main_cf: str) -> dict[str, str]:
    """name = value lines of a generated main.cf, in order (comments left out)."""
    found = {}
    for line in main_cf.splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            found[name.strip()] = value.strip()
    return found


def services_of(master_cf: str) -> list[str]:
    """The `name/type=entry` lines of a generated master.cf (comments left out)."""
    return [line for line in master_cf.splitlines() if line.strip() and not line.startswith("#")]


def apply_services(config_dir: Path, services: list[str], run: Callable[..., str]) -> list[str]:
    """Set each generated service in the master.cf of config_dir (`postconf -M -e`): the whole
    entry is replaced, so running it again changes nothing; returns the lines set."""
    for line in services:
        run("postconf", "-c", str(config_dir), "-M", "-e", line)
    return services


def apply(config_dir: Path, generated: dict[str, str], run: Callable[..., str]) -> list[str]:
    """Set each generated setting in the Postfix of config_dir (`postconf -e`), shared lists
    merged with what is set there now; returns the lines set. `run(*argv)` runs a command and
    returns its output."""
    lines = []
    endpoints = frozenset(
        match for value in generated.values() for match in ENDPOINT.findall(value)
    )
    for name, value in generated.items():
        current = ""
        if name in SHARED:
            current = run("postconf", "-c", str(config_dir), "-n", "-h", name).strip()
        line = f"{name} = {merge(name, current, value, endpoints)}"
        run("postconf", "-c", str(config_dir), "-e", line)
        lines.append(line)
    return lines


def run_command(*argv: str) -> str:
    """A command's output (Postfix's programs found in /usr/sbin too); CalledProcessError with
    its message when it fails."""
    path = os.environ.get("PATH", "") + os.pathsep + "/usr/sbin"
    argv = (shutil.which(argv[0], path=path) or argv[0], *argv[1:])
    done = subprocess.run(argv, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise subprocess.CalledProcessError(done.returncode, argv, done.stdout, done.stderr)
    return done.stdout
