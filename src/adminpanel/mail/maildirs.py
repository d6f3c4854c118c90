"""Where a mailbox's mail lives on the mail host, relative to the mail root (SPEC §10, §16).

A maildir is chosen once, when the mailbox is created, and never derived from the address
again: a mailbox created later at the same address (after a delete, or while a deleted one
waits out its grace period) gets a new, empty maildir, never the previous owner's mail. The
last component carries a random token, and no character of an address reaches the path
unfiltered, so no maildir can be another's parent.
"""

import re
import secrets

UNSAFE = re.compile(r"[^a-z0-9._+-]")


def new_maildir(local_part: str, domain: str) -> str:
    """`domain/local.token/`: readable for the operator, unique by its random token."""
    readable = UNSAFE.sub("_", local_part.lower()).strip(".")[:64] or "_"
    return f"{domain}/{readable}.{secrets.token_hex(8)}/"
