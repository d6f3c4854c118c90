"""The one table the mail servers write: each mailbox's storage, cloned by Dovecot's quota_clone
plugin whenever its quota changes. The panel only reads it."""

from django.db import models


class MailboxUsage(models.Model):
    # The mailbox's address as Dovecot names it (lower case, A-label domain).
    address = models.CharField(max_length=320, primary_key=True)
    # Dovecot inserts rows naming only the value it sets: the others need a database default.
    bytes = models.BigIntegerField(default=0, db_default=0)
    messages = models.BigIntegerField(default=0, db_default=0)

    class Meta:
        db_table = "mailserver_usage"
        # The mail role may write this table (Dovecot's quota_clone): the database itself
        # refuses a negative figure, so no reader (Users page, API, an operator's own query)
        # ever sees one, instead of each reader having to clamp it.
        constraints = [
            models.CheckConstraint(
                condition=models.Q(bytes__gte=0, messages__gte=0), name="usage_not_negative"
            )
        ]


class PurgedMaildir(models.Model):
    """A deleted mailbox's maildir that the mail host has removed (mailserver.purge writes it,
    through the mail role); the panel then forgets the mailbox (mail.deleted)."""

    maildir = models.CharField(max_length=200, primary_key=True)
    purged_at = models.DateTimeField()

    class Meta:
        db_table = "mailserver_purged"


class EndSessionsRequest(models.Model):
    """The panel asks the mail host to end a mailbox's open IMAP sessions (its password changed,
    it was disabled, renamed or deleted). The panel may not run where Dovecot runs, so it only
    writes this row; the mail host reads the view mailserver_end_sessions, runs `doveadm kick`
    and records it in mailserver_sessions_ended (mailserver.sessions), as for the purge."""

    address = models.CharField(max_length=320)
    requested_at = models.DateTimeField()

    class Meta:
        db_table = "mailserver_end_sessions_request"


class SessionsEnded(models.Model):
    """A request a mail host has carried out (written through the mail role), once per mail
    host: each host's Dovecot holds its own sessions, so every host must act on every request
    (one record per request let the first host to act hide it from the others)."""

    request_id = models.BigIntegerField()
    host = models.CharField(max_length=255)
    ended_at = models.DateTimeField()

    class Meta:
        db_table = "mailserver_host_sessions_ended"
        constraints = [
            models.UniqueConstraint(fields=["request_id", "host"], name="sessions_ended_per_host")
        ]


class AuthFailures(models.Model):
    """Consecutive failed mail logins of one mailbox (the auth policy server, mailserver.policy,
    writes it through the mail role): past the limit, even the right password is refused until
    the wait is over. Per mailbox, whatever the client's IP (issue 21 item 3)."""

    address = models.CharField(max_length=320, primary_key=True)
    failures = models.IntegerField()
    last_failure = models.BigIntegerField()  # Unix seconds, the policy server's clock

    class Meta:
        db_table = "mailserver_auth_failures"


class IpAuthFailures(models.Model):
    """Consecutive failed mail logins from one client IP address, to any mailboxes (the auth
    policy server writes it through the mail role): past the limit, every login from that
    address is refused until the wait is over; a success from it resets the count."""

    ip = models.CharField(max_length=64, primary_key=True)
    failures = models.IntegerField()
    last_failure = models.BigIntegerField()  # Unix seconds, the policy server's clock

    class Meta:
        db_table = "mailserver_ip_auth_failures"


class MailLogin(models.Model):
    """One mail-app login attempt as Dovecot reported it to the auth policy server (IMAP and
    SMTP AUTH alike), written through the mail role, which may only add rows. The panel folds
    them into the Logs and the app passwords' "last used" (mail.app_passwords), then deletes
    them."""

    at = models.BigIntegerField()  # Unix seconds, the policy server's clock
    address = models.CharField(max_length=320)  # as typed, lower-cased, at most 320 chars
    # "app:ID" (an app password), "password" (the mailbox password), "" (no credential matched)
    credential = models.CharField(max_length=32)
    protocol = models.CharField(max_length=16)  # Dovecot's service name: "imap", "smtp"
    ip = models.CharField(max_length=64)
    success = models.BooleanField()
    # Refused before any password was checked: the guessing limit of the mailbox or the IP.
    throttled = models.BooleanField()

    class Meta:
        db_table = "mailserver_mail_logins"
