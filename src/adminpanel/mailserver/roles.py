"""The PostgreSQL login role the mail servers connect as: it may SELECT the contract views
(mailserver_sieve: Dovecot's Sieve scripts; mailserver_app_passwords: Dovecot's first passdb),
write the usage table Dovecot's quota_clone fills, record the maildirs the purge removed
(mailserver.purge), keep the guessing limits' counts and add the mail logins Dovecot reports
(mailserver.policy), and nothing else (no accounts, no TOTP keys, no sessions, no logs)."""

import re
import secrets

from django.db import DatabaseError
from psycopg import errors, sql

VIEWS = [
    "mailserver_domains",
    "mailserver_mailboxes",
    "mailserver_aliases",
    "mailserver_purge",
    "mailserver_sieve",
    "mailserver_alias_domains",
    "mailserver_end_sessions",
    "mailserver_sender_logins",
    "mailserver_app_passwords",
    # The signing keys, encrypted: only a mail host given DKIM_ENCRYPTION_KEYS reads them.
    "mailserver_dkim_keys",
]
USAGE_TABLE = "mailserver_usage"
PURGED_TABLE = "mailserver_purged"
SESSIONS_ENDED_TABLE = "mailserver_host_sessions_ended"
AUTH_FAILURES_TABLE = "mailserver_auth_failures"
IP_AUTH_FAILURES_TABLE = "mailserver_ip_auth_failures"
MAIL_LOGINS_TABLE = "mailserver_mail_logins"  # added to only: the panel reads and empties it
ROLE_NAME = re.compile(r"\A[a-z_][a-z0-9_]{0,62}\Z")


class RoleError(Exception):
    pass


def ensure_role(connection, name: str) -> str:
    """Create the role, or give an existing one a new password and exactly these rights.

    `connection` is Django's PostgreSQL connection; returns the role's new password. The
    panel's own role needs CREATEROLE (not superuser) and to own the database, as the README
    sets it up; a missing privilege is a RoleError saying which, never a traceback."""
    try:
        return _ensure_role(connection, name)
    except DatabaseError as error:
        cause = error.__cause__
        if not isinstance(cause, errors.InsufficientPrivilege):
            raise
        panel_role = connection.settings_dict.get("USER") or "the panel's role"
        reason = str(cause).strip().splitlines()[0]
        raise RoleError(
            f"The panel's database role {panel_role} may not set up {name} ({reason}): it "
            "needs CREATEROLE and to own the panel's database and tables, as the README sets "
            f"it up (as a superuser: ALTER ROLE {panel_role} CREATEROLE); then run this again."
        ) from None


def _ensure_role(connection, name: str) -> str:
    if not ROLE_NAME.match(name):
        raise RoleError(
            "A role name is 1-63 lower-case letters, digits and _, starting with a letter or _."
        )
    password = secrets.token_urlsafe(32)
    role = sql.Identifier(name)
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", [name])
        row = cursor.fetchone()
        if row and row[0]:
            raise RoleError(f"{name} is a superuser role: choose a role of its own.")
        if row and name == connection.settings_dict.get("USER"):
            raise RoleError(f"{name} is the panel's own role: choose a role of its own.")
        raw = connection.connection  # DDL takes no bound parameters: compose it client-side
        # Only a superuser may even name the superuser attribute in ALTER ROLE ("must be
        # superuser to alter superuser roles"): an existing role was checked above instead.
        verb = sql.SQL("ALTER ROLE {} LOGIN" if row else "CREATE ROLE {} LOGIN NOSUPERUSER")
        statements = [
            sql.SQL("{} NOCREATEDB NOCREATEROLE NOINHERIT PASSWORD {}").format(
                verb.format(role), sql.Literal(password)
            ),
            sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {}").format(role),
            sql.SQL("REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {}").format(role),
            sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
                sql.Identifier(connection.settings_dict["NAME"]), role
            ),
            sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(role),
            sql.SQL("GRANT SELECT ON {} TO {}").format(
                sql.SQL(", ").join(map(sql.Identifier, VIEWS)), role
            ),
            sql.SQL("GRANT SELECT, INSERT, UPDATE ON {} TO {}").format(
                sql.Identifier(USAGE_TABLE), role
            ),
            sql.SQL("GRANT SELECT, INSERT ON {}, {} TO {}").format(
                sql.Identifier(PURGED_TABLE), sql.Identifier(SESSIONS_ENDED_TABLE), role
            ),
            sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON {}, {} TO {}").format(
                sql.Identifier(AUTH_FAILURES_TABLE), sql.Identifier(IP_AUTH_FAILURES_TABLE), role
            ),
            sql.SQL("GRANT INSERT ON {} TO {}").format(sql.Identifier(MAIL_LOGINS_TABLE), role),
        ]
        for statement in statements:
            cursor.execute(statement.as_string(raw))
    return password
