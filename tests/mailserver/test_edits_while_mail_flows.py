"""Edits in the panel while mail flows stall nothing and lose nothing (SPEC §10: what the
panel saves is what the next lookup sees, on SQLite as on PostgreSQL).

Postfix's own `sqlite:` client dies when a commit lands during its lookup and the master then
throttles the service (README "Connect your mail server"); on SQLite Postfix therefore asks the
panel's lookup server. This test commits edits to mailboxes and aliases in a loop, as fast as
the services go, while 200 messages are sent over four SMTP sessions at once.
"""

import smtplib
import threading
from concurrent.futures import ThreadPoolExecutor
from itertools import chain, count

import pytest
from django.db import connection

from adminpanel.accounts.models import Account
from adminpanel.mail import services
from adminpanel.mail.models import Alias, Mailbox
from tests.mailserver.mail import SENDER, message, subjects, unique_subject, wait_until

PASSWORD = "Mailbox-Cobalt-Harbor-27"
MESSAGES = 200
SESSIONS = 4
EDITS = 100  # at least this many committed edits while the messages go out

pytestmark = pytest.mark.django_db(transaction=True)


def edit_in_a_loop(
    domain: str,
    started: threading.Event,
    sending_done: threading.Event,
    edits_done: threading.Event,
    edits: list[int],
) -> None:
    """Committed edits of a mailbox and aliases of the domain, 4 a round, from before the
    sending starts until it has ended; edits counts those of the rounds ended while it went on."""
    admin = Account.objects.get(username="admin")
    other = Mailbox.objects.get(local_part="other", domain__name=domain)
    team = Alias.objects.get(local_part="team", domain__name=domain)
    flow = f"flow@{domain}"
    try:
        n = 0
        while not (sending_done.is_set() and edits_done.is_set()):
            n += 1
            services.update_mailbox(admin, other, display_name=f"Other {n}", active=n % 2 == 0)
            services.update_alias(admin, team, destinations=[flow] + [f"copy@{domain}"] * (n % 2))
            extra = services.create_alias(admin, address=f"x{n}@{domain}", destinations=[flow])
            services.delete_alias(admin, extra)
            if started.is_set() and not sending_done.is_set():
                edits.append(4)
            started.set()
            if sum(edits) >= EDITS:
                edits_done.set()
    finally:
        started.set()
        edits_done.set()  # an editor that failed must not keep the senders going
        connection.close()


def send_until(server, recipients: list[tuple[str, str]], more, sent: list) -> list[str]:
    """Send each (recipient, subject) over one SMTP session, then the ones more() gives until
    it gives None; appends each to sent, and returns what went wrong."""
    problems = []
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=30) as smtp:
        for to, subject in chain(recipients, iter(more, None)):
            sent.append((to, subject))
            try:
                refused = smtp.send_message(message(to, subject), from_addr=SENDER, to_addrs=[to])
                if refused:
                    problems.append(f"{to}: {refused}")
            except (smtplib.SMTPException, OSError) as error:
                problems.append(f"{to}: {type(error).__name__}: {error}")
    return problems


def test_edits_in_the_panel_while_200_messages_are_sent_stall_nothing_and_lose_nothing(
    mailserver, admin_api, domain
):
    for local in ["flow", "other", "copy"]:
        body = {"address": f"{local}@{domain}", "password": PASSWORD}
        assert admin_api.post("/users", body).status == 201
    body = {"address": f"team@{domain}", "destinations": [f"flow@{domain}"]}
    assert admin_api.post("/aliases", body).status == 201
    postfix_log = mailserver.log_dir / "postfix.log"
    log_start = postfix_log.stat().st_size

    def nth(i: int) -> tuple[str, str]:
        """Half straight to the mailbox, half through the alias that is being edited."""
        return f"{'flow' if i % 2 else 'team'}@{domain}", unique_subject(f"Flow {i}")

    planned = [nth(i) for i in range(MESSAGES)]
    started, sending_done, edits_done = threading.Event(), threading.Event(), threading.Event()
    edits, sent = [], []
    extra = count(MESSAGES)

    def more() -> tuple[str, str] | None:
        """Another message while the editor has not made its edits."""
        return None if edits_done.is_set() else nth(next(extra))

    editor = threading.Thread(
        target=edit_in_a_loop, args=(domain, started, sending_done, edits_done, edits)
    )
    editor.start()
    try:
        started.wait()
        with ThreadPoolExecutor(SESSIONS) as pool:
            problems = sum(
                pool.map(
                    lambda i: send_until(mailserver, planned[i::SESSIONS], more, sent),
                    range(SESSIONS),
                ),
                [],
            )
    finally:
        sending_done.set()
        editor.join()

    assert problems == []  # no timeout, no 4xx, no refusal
    assert sum(edits) >= EDITS, "the edits must overlap the sending"
    wanted = {subject for _, subject in sent}
    inbox = wait_until(lambda: wanted <= set(subjects(mailserver, f"flow@{domain}", PASSWORD)))
    assert inbox, wanted - set(subjects(mailserver, f"flow@{domain}", PASSWORD))
    log = postfix_log.read_bytes()[log_start:].decode(errors="replace")
    assert "fatal:" not in log and "throttling" not in log
