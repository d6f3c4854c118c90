"""Sessions of several mailboxes in turn, and the IMAP process that served each, as
`doveadm who` names it (an IMAP process serves up to IMAP_SESSIONS_PER_PROCESS sessions one
after another: mailserver.config)."""

import subprocess
from dataclasses import dataclass

from tests.mailserver.mail import inbox_subjects
from tests.mailserver.sessions import open_session


@dataclass(frozen=True)
class Session:
    address: str
    pid: int  # of the IMAP process that served it
    subjects: list[str]  # what its INBOX showed


def serving_pid(server, address: str) -> int:
    """The process of the mailbox's one open IMAP session."""
    listed = subprocess.run(  # noqa: S603 - the instance's own doveadm
        [*server.doveadm, "who", "-1", address],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    pids = [int(field) for line in listed.splitlines()[1:] for field in line.split()[2:3]]
    assert len(pids) == 1, listed
    return pids[0]


def sessions_in_turn(server, logins: list[tuple[str, str]], rounds: int) -> list[Session]:
    """Each (address, password) logs in, reads its INBOX's subjects and logs out, in turn,
    `rounds` times."""
    served = []
    for _ in range(rounds):
        for address, password in logins:
            imap = open_session(server, address, password)
            try:
                served.append(Session(address, serving_pid(server, address), inbox_subjects(imap)))
            finally:
                imap.logout()
    return served
