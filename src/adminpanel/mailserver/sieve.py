"""The Sieve script Dovecot (Pigeonhole) runs when it delivers to a mailbox: the mailbox's
Forwarding and Automatic reply (SPEC §16), as the panel saved them.

The panel renders the script when the settings are saved; Dovecot reads it live from the view
mailserver_sieve (a dict lookup), so nothing is synced. Every piece of text a person typed goes
into the script as a Sieve string (RFC 5228 §2.4.2): quoted with `\\` and `"` escaped, or, for
the reply's text, as a multi-line `text:` string whose lines starting with "." are doubled.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

# The script's name in Pigeonhole's dict location (sieve_before = dict:…;name=…).
SCRIPT_NAME = "adminpanel"
# Pigeonhole refuses a script with more redirects than sieve_max_redirects (default 4); the
# generated Dovecot settings raise it to this, the most destinations a mailbox may forward to.
MAX_REDIRECTS = 10
# "Once per sender per few days": vacation's own memory (in the mailbox's home) does this.
REPLY_EVERY_DAYS = 3


@dataclass(frozen=True)
class Delivery:
    """What the script does with a mailbox's mail. Empty destinations: no forwarding."""

    destinations: tuple[str, ...] = ()
    keep_copy: bool = True
    reply: AutomaticReply | None = None


@dataclass(frozen=True)
class AutomaticReply:
    subject: str
    text: str
    starts_on: date | None = None
    ends_on: date | None = None


def quoted(text: str) -> str:
    """A Sieve quoted string: backslash and double quote escaped, nothing else changes."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def multiline(text: str) -> str:
    """A Sieve multi-line string (`text:` … `.`): a line starting with "." gets one more."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    stuffed = ["." + line if line.startswith(".") else line for line in lines]
    return "text:\n" + "\n".join(stuffed) + "\n.\n"


def _reply(reply: AutomaticReply) -> list[str]:
    command = f"vacation :days {REPLY_EVERY_DAYS}"
    if reply.subject:
        command += f" :subject {quoted(reply.subject)}"
    command += " " + multiline(reply.text) + ";"
    # Dates compared as text "yyyy-mm-dd" in the mail server's time zone (currentdate).
    tests = []
    if reply.starts_on:
        tests.append(f'currentdate :value "ge" "date" {quoted(reply.starts_on.isoformat())}')
    if reply.ends_on:
        tests.append(f'currentdate :value "le" "date" {quoted(reply.ends_on.isoformat())}')
    if not tests:
        return [command]
    return [f"if allof({', '.join(tests)}) {{", command, "}"]


def render(delivery: Delivery) -> str:
    """The script for these settings; "" when there is nothing to do (plain delivery)."""
    body: list[str] = []
    extensions: list[str] = []
    if delivery.reply is not None:
        extensions.append("vacation")
        if delivery.reply.starts_on or delivery.reply.ends_on:
            extensions += ["date", "relational"]
        body += _reply(delivery.reply)
    if delivery.destinations:
        body += [f"redirect {quoted(address)};" for address in delivery.destinations]
        # A redirect cancels the implicit keep: keep it only when asked to.
        if delivery.keep_copy:
            body.append("keep;")
    if not body:
        return ""
    head = ["# Written by the Admin Panel: this mailbox's Forwarding and Automatic reply."]
    if extensions:
        head.append(f"require [{', '.join(quoted(name) for name in extensions)}];")
    return "\n".join(head + body) + "\n"


def script_id(script: str) -> str:
    """The data id Pigeonhole keeps with a compiled script: a new text gets a new id, so a
    compiled copy of an older text is never run (dict locations, "data ID")."""
    return hashlib.sha256(script.encode("utf-8")).hexdigest()[:32]
