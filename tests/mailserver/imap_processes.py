"""Sessions of several mailboxes in turn, and the IMAP process that served each, as
`doveadm who` names it (an IMAP process serves up to IMAP_SESSIONS_PER_PROCESS sessions one
after another: mailserver.config)."""

import subprocess
from dataclasses import dataclass

from tests.mailserver.mail import inbox_subjects, unique_subject
from tests.mailserver.mail_data import PASSWORD, add_mailbox
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


def two_inboxes(admin_api, domain: str, deliver) -> dict[str, list[str]]:
    """Two new mailboxes of the domain, each with one message, delivered by
    deliver(address, subject) (and there when it returns); their INBOXes' subjects."""
    inboxes = {}
    for name in ("first", "second"):
        address = f"{name}@{domain}"
        add_mailbox(admin_api, address)
        inboxes[address] = [unique_subject(f"For {name}")]
        deliver(address, inboxes[address][0])
    return inboxes


def assert_served_in_turn_apart(server, inboxes: dict[str, list[str]]) -> None:
    """Ten rounds of the mailboxes' sessions in turn: each session saw only its own INBOX, and
    the IMAP processes were reused (far fewer than the sessions they served)."""
    served = sessions_in_turn(server, [(address, PASSWORD) for address in inboxes], rounds=10)
    assert all(session.subjects == inboxes[session.address] for session in served)
    assert len({session.pid for session in served}) < len(served) / 2
