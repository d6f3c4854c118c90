"""The sender: delivers the outbox's notices, each exactly once, retrying with backoff.

A notice is claimed in a short transaction (SELECT … FOR UPDATE SKIP LOCKED on PostgreSQL, an
IMMEDIATE transaction on SQLite) that moves its next attempt a lease ahead, then sent with no
transaction open, then marked. So any number of senders on any number of instances share one
outbox without sending a notice twice, and a slow mail server never holds a database lock.
Each outcome is in the audit log: notice_sent, notice_deferred (retried later), notice_failed.
"""

import email.errors
import logging
import smtplib
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.message import sanitize_address
from django.db import DatabaseError, connections, transaction

from adminpanel import audit, clock
from adminpanel.audit.catalogue import AuditEvent
from adminpanel.notices.models import Notice

LEASE = timedelta(minutes=5)  # longer than any one delivery (EMAIL_TIMEOUT per SMTP step)
MAX_ATTEMPTS = 10  # over about 4½ hours
FIRST_RETRY_SECONDS = 60
MAX_RETRY_SECONDS = 3600
SENDER = "notice sender"
# What writing a mail raises for an address or a header Python cannot write (HeaderParseError
# is a MessageError; UnicodeError a ValueError).
UNBUILDABLE = (email.errors.MessageError, ValueError, LookupError, TypeError)

logger = logging.getLogger(__name__)


def retry_delay(attempts: int) -> timedelta:
    """The wait after the n-th failed attempt: 1 minute, doubling up to 1 hour."""
    return timedelta(seconds=min(FIRST_RETRY_SECONDS * 2 ** (attempts - 1), MAX_RETRY_SECONDS))


def _claim(now: datetime) -> Notice | None:
    """The oldest due notice, leased to this sender; None when nothing is due."""
    with transaction.atomic():
        notice = (
            Notice.objects.select_for_update(skip_locked=True)
            .filter(status=Notice.Status.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "id")
            .first()
        )
        if notice is None:
            return None
        notice.attempts += 1
        notice.next_attempt_at = now + LEASE
        notice.save(update_fields=["attempts", "next_attempt_at"])
    return notice


def _permanent(error: Exception) -> bool:
    """A 5xx answer about this message: sending it again would get the same answer."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in error.recipients.values())
    # Other refusals (credentials, the sender address) are the operator's to fix: retried.
    return isinstance(error, smtplib.SMTPDataError) and error.smtp_code >= 500


def _describe(error: Exception) -> str:
    """The mail server's answer or the network error, for the log (never the credentials)."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(error.recipients.values()))
        return f"{code} {text.decode(errors='replace')}"[:300]
    if isinstance(error, smtplib.SMTPResponseException):
        text = error.smtp_error
        text = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
        return f"{error.smtp_code} {text}"[:300]
    return f"{type(error).__name__}: {error}"[:300]


def _log(event: AuditEvent, notice: Notice, **details) -> None:
    audit.record(
        event,
        actor_name=SENDER,
        about_account=notice.account,
        notice=notice.pk,
        about=notice.event,
        to=notice.to,
        attempt=notice.attempts,
        **details,
    )


def _mine(notice: Notice):
    """The notice's row while this sender's lease holds (no other sender took it since)."""
    return Notice.objects.filter(
        pk=notice.pk, status=Notice.Status.PENDING, attempts=notice.attempts
    )


def _build(notice: Notice) -> EmailMessage:
    """The notice as a mail, written out once here so that one Python cannot write fails now."""
    message = EmailMessage(
        notice.subject,
        notice.body,
        settings.DEFAULT_FROM_EMAIL,
        [notice.to],
        headers={"Auto-Submitted": "auto-generated"},  # RFC 3834: no auto-replies, please
    )
    for address in (settings.DEFAULT_FROM_EMAIL, notice.to):
        sanitize_address(address, message.encoding or settings.DEFAULT_CHARSET)
    message.message().as_bytes()
    return message


def _deliver(notice: Notice) -> None:
    try:
        message = _build(notice)
    except UNBUILDABLE as error:
        # The same notice would fail the same way on every try: given up at once.
        with transaction.atomic():
            if _mine(notice).update(status=Notice.Status.FAILED):
                _log(
                    AuditEvent.NOTICE_FAILED, notice, error=f"cannot be written: {_describe(error)}"
                )
        return
    try:
        message.send(fail_silently=False)
    except (smtplib.SMTPException, OSError) as error:
        _failed(notice, error)
        return
    except UNBUILDABLE as error:  # written out by the backend after all: the same fate
        _failed(notice, error, permanent=True)
        return
    with transaction.atomic():
        if _mine(notice).update(status=Notice.Status.SENT, sent_at=clock.now()):
            _log(AuditEvent.NOTICE_SENT, notice)


def _failed(notice: Notice, error: Exception, *, permanent: bool = False) -> None:
    now = clock.now()
    reason = _describe(error)
    with transaction.atomic():
        if permanent or _permanent(error) or notice.attempts >= MAX_ATTEMPTS:
            if _mine(notice).update(status=Notice.Status.FAILED):
                _log(AuditEvent.NOTICE_FAILED, notice, error=reason)
            return
        retry_at = now + retry_delay(notice.attempts)
        if _mine(notice).update(next_attempt_at=retry_at):
            _log(AuditEvent.NOTICE_DEFERRED, notice, error=reason, retry_at=retry_at.isoformat())


def send_due(*, limit: int = 100) -> int:
    """Send the notices that are due now (at most `limit`); returns how many were tried."""
    tried = 0
    while tried < limit:
        notice = _claim(clock.now())
        if notice is None:
            break
        _deliver(notice)
        tried += 1
    return tried


def run(*, interval: float, keep_going: Callable[[], bool]) -> None:
    """Send due notices every `interval` seconds while keep_going() says so."""
    while keep_going():
        try:
            send_due()
        except DatabaseError:
            # The database is away (restart, failover): try again with a new connection.
            logger.warning("notice sender: database unavailable, retrying", exc_info=True)
            connections.close_all()
        except Exception:
            # Whatever one notice did, the others still go out; a leased notice comes back.
            logger.exception("notice sender: unexpected error, carrying on")
        time.sleep(interval)
