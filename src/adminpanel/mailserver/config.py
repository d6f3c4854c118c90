"""The Postfix and Dovecot files that make the mail servers read the contract views (SPEC §10).

One function renders them for any layout: the operator's (Debian paths, `mailserver-config`)
and a private instance's (`mailserver-run`, the tests). Every query reads only the contract
views (and Dovecot writes only `mailserver_usage` and the purge `mailserver_purged`), compares
with `=` (never LIKE, so `%` and `_` in an address are plain characters) and gets its key quoted
by Postfix or Dovecot themselves, or bound as a parameter by our lookup server.
"""

from __future__ import annotations

import os
import pwd
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from adminpanel.mailserver import dkim, sieve

# An active alias none of whose destinations can take mail: each is an address of one of the
# panel's domains that is neither an active mailbox, nor an active alias, nor caught by its
# domain's catch-all (a disabled mailbox, a deleted one, a typo). Refused at RCPT TO rather
# than accepted and bounced to a sender who may be forged (backscatter). A destination outside
# the panel's domains (an alias domain too) or with a tag is taken as deliverable: only what
# the panel knows for sure is refused. {key} is the recipient, quoted by Postfix or bound;
# substr(…) = '@' || d.domain: the destination's domain is d (both databases have substr).
DEAD_ALIAS_QUERY = (
    "SELECT 'REJECT This alias delivers to no mailbox.' "
    "WHERE EXISTS (SELECT 1 FROM mailserver_aliases WHERE address = {key} AND active) "
    "AND NOT EXISTS (SELECT 1 FROM mailserver_aliases a WHERE a.address = {key} AND a.active "
    "AND (replace(a.destination, '+', '') <> a.destination "
    "OR EXISTS (SELECT 1 FROM mailserver_mailboxes m "
    "WHERE m.address = a.destination AND m.active) "
    "OR EXISTS (SELECT 1 FROM mailserver_aliases b "
    "WHERE b.address = a.destination AND b.active) "
    "OR NOT EXISTS (SELECT 1 FROM mailserver_domains d "
    "WHERE substr(a.destination, length(a.destination) - length(d.domain)) = '@' || d.domain) "
    "OR EXISTS (SELECT 1 FROM mailserver_domains d JOIN mailserver_aliases c "
    "ON c.address = '@' || d.domain "
    "WHERE c.active "
    "AND substr(a.destination, length(a.destination) - length(d.domain)) = '@' || d.domain)))"
)

# postmaster@ of every active domain takes mail (RFC 5321 §4.5.1): the domain's own postmaster
# alias or mailbox first, then its catch-all, else the operator's address (mailserver-config
# --postmaster). The last of the virtual alias tables, so the first two win; {address} is the
# operator's, {local}/{domain} the recipient's parts, quoted by Postfix or bound.
POSTMASTER_QUERY = (
    "SELECT {address} FROM mailserver_domains "
    "WHERE {local} = 'postmaster' AND domain = {domain} AND active "
    "AND NOT EXISTS (SELECT 1 FROM mailserver_aliases WHERE address = '@' || {domain} "
    "AND active)"
)


def sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# Postfix looks a recipient up in these tables. On PostgreSQL they are `pgsql:` queries; on
# SQLite they are served by the lookup server (lookup.py), because Postfix's `sqlite:` client
# sets no busy timeout and dies when the panel commits during a lookup (README: "Why a lookup
# server on SQLite").
MAP_QUERIES = {
    "domains": "SELECT domain FROM mailserver_domains WHERE domain = '%s' AND active",
    "mailboxes": (
        "SELECT maildir FROM mailserver_mailboxes "
        "WHERE local_part = '%u' AND domain = '%d' AND active"
    ),
    "aliases": "SELECT destination FROM mailserver_aliases WHERE address = '%s' AND active",
    # Identity rows: without them a catch-all would swallow the domain's real mailboxes
    # (virtual(5), "catch-all").
    "mailbox-self": (
        "SELECT address FROM mailserver_mailboxes "
        "WHERE local_part = '%u' AND domain = '%d' AND active"
    ),
    # Dovecot's quota-status is asked about mailboxes only (an alias has no quota of its own:
    # its mailboxes' limits apply at delivery).
    "quota": (
        "SELECT 'adminpanel_quota' FROM mailserver_mailboxes "
        "WHERE local_part = '%u' AND domain = '%d' AND active"
    ),
    # An inactive mailbox is refused outright (a catch-all must not take its mail either).
    "inactive": (
        "SELECT 'REJECT This mailbox is disabled.' FROM mailserver_mailboxes "
        "WHERE local_part = '%u' AND domain = '%d' AND NOT active"
    ),
    "dead-aliases": DEAD_ALIAS_QUERY.format(key="'%s'"),
    # Alias domains (SPEC §16) are Postfix's virtual alias domains: every address of one must
    # be rewritten by virtual_alias_maps, or it is refused at RCPT TO.
    "alias-domains": (
        "SELECT alias_domain FROM mailserver_alias_domains WHERE alias_domain = '%s' AND active"
    ),
    # local@alias-domain -> local@target, only when the target takes local@target (a mailbox,
    # an alias, or its catch-all): an unknown local part stays unknown and gets 550. A tag
    # that matches nothing is cut off and put back by Postfix, as for the target's own tables.
    "alias-domain-addresses": (
        "SELECT '%u@' || ad.target_domain FROM mailserver_alias_domains ad "
        "WHERE ad.alias_domain = '%d' AND ad.active AND ("
        "EXISTS (SELECT 1 FROM mailserver_mailboxes m "
        "WHERE m.local_part = '%u' AND m.domain = ad.target_domain AND m.active) "
        "OR EXISTS (SELECT 1 FROM mailserver_aliases a WHERE a.active "
        "AND a.address IN ('%u@' || ad.target_domain, '@' || ad.target_domain)))"
    ),
    # An inactive mailbox is refused through its alias domains too (not caught by a catch-all).
    "alias-domain-inactive": (
        "SELECT 'REJECT This mailbox is disabled.' FROM mailserver_alias_domains ad "
        "JOIN mailserver_mailboxes m ON m.domain = ad.target_domain "
        "WHERE m.local_part = '%u' AND ad.alias_domain = '%d' AND ad.active AND NOT m.active"
    ),
    # Who may send as an address (smtpd_sender_login_maps, SPEC §15): its mailbox, and the
    # mailboxes an alias delivers to. %u/%d: Postfix never asks it with "@domain" (no local
    # part), so no catch-all can hand out a whole domain.
    "sender-logins": (
        "SELECT login FROM mailserver_sender_logins "
        "WHERE local_part = '%u' AND domain = '%d' AND active"
    ),
}

# The home is a directory inside the maildir, not the maildir itself: Sieve keeps its memory
# of replies and forwards in the home (.dovecot.lda-dupes and a lock directory beside it), and
# in a maildir's top level every name starting with "." is a folder (Maildir++).
# {local_part}/{domain}/{mail_fields}: as the Dovecot version spells them (DovecotSyntax).
USER_QUERY = (
    "SELECT '{mail_root}/' || maildir || 'dovecot-home' AS home, {mail_fields} "
    "FROM mailserver_mailboxes WHERE local_part = '{local_part}' AND domain = '{domain}' "
    "AND active"
)
ITERATE_QUERY = "SELECT address AS user FROM mailserver_mailboxes WHERE active"

# "user+tag@domain" is mail for user@domain (Debian's stock main.cf sets it too). Postfix
# strips the tag for its own tables, the lookup server for its socketmap, Dovecot for LMTP
# delivery and quota-status: all four split at the same character.
RECIPIENT_DELIMITER = "+"

# Dovecot lets a mailbox under its quota go over it by this much with one message (quota_grace,
# its default, set explicitly); the end-of-data check (room.py) counts the same grace.
QUOTA_GRACE_PERCENT = 10

SECRET = 0o600  # files holding the database password
PUBLIC = 0o644

# main.cf's list of the milters on submission (SPEC §15): the From: check first (it refuses,
# so nothing after it signs a refused message), then any the operator or another part adds
# (a DKIM signer: Layout.submission_milters). master.cf's submission services name it.
SUBMISSION_MILTERS = "adminpanel_submission_milters"


@dataclass(frozen=True)
class Database:
    """How the mail servers reach the panel's database."""

    vendor: str  # "postgresql" or "sqlite"
    name: str  # database name, or the SQLite file's absolute path
    host: str = ""
    port: int | str = ""
    user: str = ""
    password: str = ""

    @classmethod
    def of(cls, settings: dict, *, user: str = "", password: str = "") -> Database:
        """From a Django DATABASES entry; `user`/`password` replace its login (a mail role)."""
        vendor = "postgresql" if "postgresql" in settings["ENGINE"] else "sqlite"
        if vendor == "sqlite":
            return cls("sqlite", str(Path(settings["NAME"]).resolve()))
        return cls(
            "postgresql",
            settings["NAME"],
            host=settings.get("HOST") or "localhost",
            port=settings.get("PORT") or 5432,
            user=user or settings.get("USER") or "",
            password=password if user else settings.get("PASSWORD") or "",
        )

    def postfix_uri(self) -> str:
        login = quote(self.user, safe="")
        if self.password:
            login += ":" + quote(self.password, safe="")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"postgresql://{login}@{host}:{self.port}/{quote(self.name, safe='')}"

    def dovecot_connect(self, *, read_only: bool = False) -> str:
        """Dovecot's `connect`. On SQLite, `read_only` opens the file read-only: an SQLite URI,
        which Dovecot hands to sqlite3_open unchanged and Debian's libsqlite3 reads as one
        (built with SQLITE_USE_URI)."""
        if self.vendor == "sqlite":
            return f"file:{quote(self.name)}?mode=ro" if read_only else self.name
        parts = {
            "host": self.host,
            "port": self.port,
            "dbname": self.name,
            "user": self.user,
            "password": self.password,
        }
        return " ".join(f"{k}={v}" for k, v in parts.items() if v != "")


@dataclass(frozen=True)
class Layout:
    """Where things live on the mail host, as Postfix and Dovecot each name them."""

    postfix_dir: Path  # where the lookup files are installed
    dovecot_dir: Path  # where the Dovecot files are installed
    mail_root: Path  # maildirs: mail_root/domain/local_part/
    lmtp_for_postfix: str  # virtual_transport target
    lmtp_listener: str  # Dovecot's LMTP socket path
    quota_status_for_postfix: str  # check_policy_service target
    quota_status_listener: str  # Dovecot's quota-status socket path
    lookup_address: str = "127.0.0.1:7520"  # the lookup server (SQLite only)
    policy_address: str = "127.0.0.1:7521"  # the auth policy server (mailserver.policy)
    room_address: str = "127.0.0.1:7522"  # the end-of-data policy (mailserver.room)
    # SQLite only: Postfix reads the file itself (`sqlite:`), for benchmarks/mailserver.py to
    # show why the lookup server exists. Stalls mail while the panel writes.
    postfix_reads_sqlite: bool = False
    vmail_uid: int = 5000
    listener_owner: tuple[str, str] = ("postfix", "postfix")
    # Where postmaster@ of a domain without its own postmaster or catch-all goes ("": nowhere,
    # refused like any unknown address).
    postmaster: str = ""
    # Sending (SPEC §15). Postfix's SASL client asks Dovecot's auth service on this socket
    # (Debian: relative to Postfix's queue directory, where its chrooted smtpd finds it).
    sasl_for_postfix: str = "private/auth"
    sasl_listener: str = "/var/spool/postfix/private/auth"
    sender_check_address: str = "127.0.0.1:7523"  # the From: check (mailserver.senders)
    # More milters on submission after the From: check, e.g. "inet:127.0.0.1:8891" (OpenDKIM).
    submission_milters: tuple[str, ...] = ()
    # The submission services' names (Postfix: a port name or HOST:PORT; "": not served) and
    # their chroot column.
    submission_service: str = "submission"
    submissions_service: str = "submissions"
    chroot: bool = True  # Debian's master.cf runs smtpd chrooted
    # The certificate (full chain) and its key for Postfix and Dovecot; "" leaves the
    # system's own settings (Debian: a snakeoil certificate, when the ssl-cert package made one).
    certfile: str = ""
    keyfile: str = ""
    # The DKIM signer (mailserver.dkim): OpenDKIM's port on loopback, its tables, its pid file.
    milter_port: int = dkim.MILTER_PORT
    dkim_tables: Path = dkim.DEBIAN_TABLES
    dkim_pid_file: Path = dkim.DEBIAN_PID_FILE
    # The key of the app passwords' digests (settings.APP_PASSWORD_PEPPER), for the passdb.
    app_password_pepper: str = ""
    # The mail host's Dovecot: "2.3" (Debian 12) or "2.4" (Debian 13), whose settings differ.
    dovecot_version: str = "2.3"


def debian_layout() -> Layout:
    """Debian's Postfix (daemons chrooted to /var/spool/postfix) and Dovecot."""
    return Layout(
        postfix_dir=Path("/etc/postfix/adminpanel"),
        dovecot_dir=Path("/etc/dovecot/adminpanel"),
        mail_root=Path("/var/vmail"),
        lmtp_for_postfix="lmtp:unix:private/dovecot-lmtp",
        lmtp_listener="/var/spool/postfix/private/dovecot-lmtp",
        quota_status_for_postfix="unix:private/dovecot-quota-status",
        quota_status_listener="/var/spool/postfix/private/dovecot-quota-status",
    )


def map_queries(db: Database, layout: Layout) -> dict[str, str]:
    """The lookup tables' queries (Postfix's own SQL), by name."""
    queries = dict(MAP_QUERIES)
    if layout.postmaster:
        queries["postmaster"] = POSTMASTER_QUERY.format(
            address=sql_literal(layout.postmaster), local="'%u'", domain="'%d'"
        )
    return queries


def _postfix_tables(db: Database, layout: Layout) -> dict[str, str]:
    """main.cf value for each lookup, by name."""
    tables = _lookup_tables(db, layout)
    if layout.postmaster and db.vendor == "sqlite" and not layout.postfix_reads_sqlite:
        # The lookup server learns the address from the table's name (socketmap sends it with
        # every key), so it is set in one place: these settings.
        tables["postmaster"] += f"={layout.postmaster}"
    return tables


def _lookup_tables(db: Database, layout: Layout) -> dict[str, str]:
    names = map_queries(db, layout)
    if db.vendor == "postgresql":
        # Through proxymap: without it every smtpd, cleanup and trivial-rewrite process holds
        # a connection per table, and PostgreSQL's max_connections (100 by default) runs out
        # at a few dozen SMTP sessions (benchmarks/mailserver.py counts them). Postfix's
        # default proxy_read_maps lists every one of these tables.
        return {name: f"proxy:pgsql:{layout.postfix_dir}/{name}.cf" for name in names}
    if layout.postfix_reads_sqlite:
        return {name: f"sqlite:{layout.postfix_dir}/{name}.cf" for name in names}
    return {name: f"socketmap:inet:{layout.lookup_address}:{name}" for name in names}


def postfix_settings(db: Database, layout: Layout) -> dict[str, str]:
    """The main.cf settings that hand recipients to the views and mail to Dovecot."""
    tables = _postfix_tables(db, layout)
    return {
        "virtual_mailbox_domains": tables["domains"],
        "virtual_mailbox_maps": tables["mailboxes"],
        "virtual_alias_domains": tables["alias-domains"],
        "virtual_alias_maps": (
            f"{tables['aliases']}, {tables['mailbox-self']}, {tables['alias-domain-addresses']}"
            + (f", {tables['postmaster']}" if "postmaster" in tables else "")
        ),
        "virtual_transport": layout.lmtp_for_postfix,
        # VRFY would tell anyone which addresses exist (RCPT TO still does, as it must).
        "disable_vrfy_command": "yes",
        "recipient_delimiter": RECIPIENT_DELIMITER,
        # Debian's stock main.cf ends in defer_unauth_destination: an outside sender to a
        # domain the panel does not have (or has disabled) got 454 and retried for days.
        # SPEC §10 promises a permanent refusal; the stock permits stay as they were.
        "smtpd_relay_restrictions": (
            "permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination"
        ),
        # Inactive mailboxes get 554 and unknown recipients 550 at RCPT TO; a full mailbox
        # 552 (Dovecot's quota-status, through the restriction class adminpanel_quota).
        "smtpd_restriction_classes": "adminpanel_quota",
        "adminpanel_quota": f"check_policy_service {layout.quota_status_for_postfix}",
        "smtpd_recipient_restrictions": (
            f"check_recipient_access {tables['inactive']}, "
            f"check_recipient_access {tables['alias-domain-inactive']}, "
            f"check_recipient_access {tables['dead-aliases']}, "
            "reject_unlisted_recipient, "
            f"check_recipient_access {tables['quota']}"
        ),
        # A message bigger than its mailbox's room left, sent without SIZE=, is refused at the
        # end of DATA (room.py), not accepted and bounced. Down: mail goes on (DUNNO). Postfix
        # closes an idle connection to it before the server would.
        "smtpd_end_of_data_restrictions": (
            f"check_policy_service {{ inet:{layout.room_address}, timeout=10s, "
            "max_idle=60s, default_action=DUNNO }"
        ),
        # Submission (SPEC §15): Dovecot checks SMTP AUTH with the passdb IMAP uses; the
        # submission services (master.cf) turn AUTH on and refuse a MAIL FROM the login does
        # not own (reject_sender_login_mismatch reads this map). Port 25 offers no AUTH.
        "smtpd_sasl_type": "dovecot",
        "smtpd_sasl_path": layout.sasl_for_postfix,
        "smtpd_sender_login_maps": tables["sender-logins"],
        # The From: check refuses first; the DKIM signer then signs what it let through.
        SUBMISSION_MILTERS: ", ".join(
            [
                f"inet:{layout.sender_check_address}",
                *layout.submission_milters,
                f"inet:127.0.0.1:{layout.milter_port}",
            ]
        ),
        **_postfix_tls(layout),
        # DKIM signing of logged-in clients' mail (mailserver.dkim).
        **dkim.postfix_settings(layout.milter_port),
    }


def _postfix_tls(layout: Layout) -> dict[str, str]:
    if not layout.certfile:
        return {}
    return {
        "smtpd_tls_cert_file": layout.certfile,
        "smtpd_tls_key_file": layout.keyfile,
        # Port 25 offers STARTTLS to other servers; submission requires it (master.cf).
        "smtpd_tls_security_level": "may",
    }


# Both submission services: a client logs in (over TLS only) before anything; mail for
# anywhere is relayed for it, from its own addresses only. Values hold no spaces (master.cf
# splits its arguments at white space).
SUBMISSION_OPTIONS = {
    "smtpd_tls_security_level": "encrypt",
    "smtpd_tls_auth_only": "yes",
    "smtpd_sasl_auth_enable": "yes",
    "smtpd_client_restrictions": "permit_sasl_authenticated,reject",
    "smtpd_sender_restrictions": "reject_non_fqdn_sender,reject_sender_login_mismatch",
    "smtpd_relay_restrictions": "permit_sasl_authenticated,reject",
    "smtpd_milters": f"${SUBMISSION_MILTERS}",
    # Unlike port 25's (accept: incoming mail never waits on the signer), a milter that does
    # not answer here makes the client retry (451): no From: check skipped, nothing unsigned.
    "milter_default_action": "tempfail",
    # A signer (OpenDKIM's default) signs mail whose {daemon_name} is ORIGINATING.
    "milter_macro_daemon_name": "ORIGINATING",
}


def master_services(layout: Layout) -> dict[str, str]:
    """The submission (STARTTLS) and submissions (TLS) services, as `postconf -M -e` takes
    them: "name/type" -> the whole master.cf entry."""
    chroot = "y" if layout.chroot else "n"
    services = {}
    for name, kind, wrapper in [
        (layout.submission_service, "submission", "no"),
        (layout.submissions_service, "submissions", "yes"),
    ]:
        if not name:
            continue  # not served (a trial without a submissions port)
        options = {"syslog_name": f"postfix/{kind}", "smtpd_tls_wrappermode": wrapper}
        options.update(SUBMISSION_OPTIONS)
        arguments = " ".join(f"-o {key}={value}" for key, value in options.items())
        services[f"{name}/inet"] = f"{name} inet n - {chroot} - - smtpd {arguments}"
    return services


def _postfix_map(db: Database, query: str) -> str:
    header = "# Written by `adminpanel mailserver-config`: reads the view, never a table.\n"
    if db.vendor == "sqlite":
        return header + f"dbpath = {db.name}\nquery = {query}\n"
    return (
        header + f"hosts = {db.postfix_uri()}\n"
        # Postfix insists on dbname even when the URI names it.
        f"dbname = {db.name}\n"
        f"query = {query}\n"
    )


# --- Dovecot: one set of settings, written for Dovecot 2.3 (Debian 12) or 2.4 (Debian 13) --
#
# What the settings say is shared by both versions: the queries, the dicts' maps, the policy
# attributes, the quota, Sieve and listener values below. Dovecot 2.4 changed how they are
# written (variables, named passdb/userdb blocks holding their SQL connection, the dicts inside
# the configuration, plugin settings as blocks) and refuses 2.3's syntax: DovecotSyntax holds
# the variables, _dovecot23_conf and _dovecot24_conf the blocks. Both write the same files.

DOVECOT_VERSIONS = ("2.3", "2.4")


@dataclass(frozen=True)
class DovecotSyntax:
    """How one Dovecot version spells the variables of the shared queries and settings."""

    user: str  # the login, lower-cased by auth_username_format
    local_part: str
    domain: str
    protocol: str
    remote_ip: str
    username_format: str
    app_digest: str  # hex SHA-256 of the pepper followed by the typed password ({pepper})
    mail_fields: str  # the userdb's maildir and quota columns ({mail_root})
    requests_per_process: str  # the service setting: how many clients a process serves


DOVECOT_SYNTAX = {
    "2.3": DovecotSyntax(
        user="%u",
        local_part="%n",
        domain="%d",
        protocol="%s",
        remote_ip="%{rip}",
        username_format="%Lu",
        app_digest="%{{sha256;salt={pepper}:password}}",
        mail_fields=(
            "'maildir:{mail_root}/' || maildir AS mail, '*:bytes=' || quota_bytes AS quota_rule"
        ),
        requests_per_process="service_count",
    ),
    # A setting returned by 2.4's userdb overrides the global one (mail_path, the quota). Its
    # grace is a size, so each mailbox gets QUOTA_GRACE_PERCENT of its quota, as 2.3's
    # quota_grace gives; parentheses because SQLite's || binds tighter than * and /.
    "2.4": DovecotSyntax(
        user="%{user}",
        local_part="%{user | username}",
        domain="%{user | domain}",
        protocol="%{protocol}",
        remote_ip="%{remote_ip}",
        username_format="%{user | lower}",
        app_digest="%{{password | sha256(salt='{pepper}')}}",
        mail_fields=(
            "'{mail_root}/' || maildir AS mail_path, quota_bytes || 'B' AS quota_storage_size, "
            f"(quota_bytes * {QUOTA_GRACE_PERCENT} / 100) || 'B' AS quota_storage_grace"
        ),
        requests_per_process="restart_request_count",
    ),
}


def dovecot_syntax(layout: Layout) -> DovecotSyntax:
    """The layout's Dovecot version's syntax; a version this cannot write is refused."""
    if layout.dovecot_version not in DOVECOT_SYNTAX:
        raise ValueError(f"Dovecot {layout.dovecot_version!r}: only 2.3 and 2.4 are written.")
    return DOVECOT_SYNTAX[layout.dovecot_version]


def dovecot_version_of(said: str) -> str:
    """The syntax to write for what `dovecot --version` prints ("2.4.1-4 (7d8c0e5759)"):
    "2.4" from 2.4 on, "2.3" before it."""
    numbers = [int(part) for part in said.split()[0].split("-")[0].split(".")[:2]]
    return "2.4" if numbers >= [2, 4] else "2.3"


def _quoted(value: str) -> str:
    """A value in Dovecot 2.4's configuration, as it is whatever it holds."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _dovecot_sql(
    db: Database, version: str, *, read_only: bool = False, dict_file: bool = False
) -> str:
    """The SQL connection of a passdb, userdb or dict, in the version's syntax. 2.4's values
    are quoted (a role's password is URL-safe base64: nothing in it is a variable)."""
    if version == "2.3":
        # 2.3 names a dict's driver where it names the dict (dict { name = pgsql:FILE }).
        driver = "pgsql" if db.vendor == "postgresql" else "sqlite"
        connect = f"connect = {db.dovecot_connect(read_only=read_only)}\n"
        return connect if dict_file else f"driver = {driver}\n{connect}"
    if db.vendor == "sqlite":
        return f"sql_driver = sqlite\nsqlite_path = {_quoted(db.name)}\n" + (
            "sqlite_readonly = yes\n" if read_only else ""
        )
    parameters = {"port": db.port, "dbname": db.name, "user": db.user, "password": db.password}
    lines = "".join(
        f"    {name} = {_quoted(str(value))}\n" for name, value in parameters.items() if value != ""
    )
    return f"sql_driver = pgsql\npgsql {_quoted(db.host)} {{\n  parameters {{\n{lines}  }}\n}}\n"


def _sql_conf(db: Database, layout: Layout) -> str:
    syntax = dovecot_syntax(layout)
    query = USER_QUERY.format(
        mail_root=layout.mail_root,
        mail_fields=syntax.mail_fields.format(mail_root=layout.mail_root),
        local_part=syntax.local_part,
        domain=syntax.domain,
    )
    names = ("user_query", "iterate_query")
    if layout.dovecot_version != "2.3":
        names = ("sql_query", "sql_iterate_query")
    return (
        "# Written by `adminpanel mailserver-config`: Dovecot's userdb (the passdbs are in\n"
        "# app-passwords.conf.ext and mailbox-password.conf.ext).\n"
        + _dovecot_sql(db, layout.dovecot_version, read_only=True)
        + f"{names[0]} = {query}\n{names[1]} = {ITERATE_QUERY}\n"
    )


# --- Dovecot's passdbs: what opens IMAP and SMTP AUTH (SPEC §14) ---------------------------
#
# Two SQL passdbs, asked in this order for every login (Postfix's SMTP AUTH asks Dovecot too):
# 1. an active app password of the mailbox: Dovecot computes the keyed SHA-256 of the typed
#    password itself and looks that digest up, so neither the password nor a digest that can be
#    guessed offline reaches SQL or Dovecot's log; the row found is the proof (nopassword);
# 2. the mailbox password (Argon2id, verified by Dovecot), only while the mailbox's domain lets
#    mail apps use it and its owner has no 2FA (mailserver_mailboxes.mail_apps_may_use_password).
# Each names the credential that opened the login ("app:ID" or "password") in a userdb field,
# which the auth policy report hands to mailserver.policy ("last used", the Logs). No auth
# cache (auth_cache_size = 0): a revoked app password is refused at the very next login.
# Only plaintext mechanisms (plain, login): a challenge-response one has no password to hash.

# The userdb field naming the credential ("userdb_" + it in the queries); not a Dovecot setting.
CREDENTIAL_FIELD = "adminpanel_credential"
# {user} is the user name lower-cased by auth_username_format, quoted by Dovecot; the typed
# password only ever reaches SQL as 64 hex digits ({app_digest}).
APP_CREDENTIAL_QUERY = (
    "SELECT address AS user, NULL AS password, 'Y' AS nopassword, "
    "'app:' || app_password_id AS userdb_adminpanel_credential "
    "FROM mailserver_app_passwords "
    "WHERE address = '{user}' AND secret_sha256 = '{app_digest}' AND active"
)
MAILBOX_CREDENTIAL_QUERY = (
    "SELECT address AS user, password, 'password' AS userdb_adminpanel_credential "
    "FROM mailserver_mailboxes "
    "WHERE local_part = '{local_part}' AND domain = '{domain}' AND active AND sign_in_allowed "
    "AND password IS NOT NULL AND mail_apps_may_use_password"
)
# The passdbs' files, in the order Dovecot asks them, and their names in 2.4.
PASSDBS = {
    "app-passwords.conf.ext": "adminpanel_app_passwords",
    "mailbox-password.conf.ext": "adminpanel_mailbox_password",
}


def policy_attributes(syntax: DovecotSyntax) -> dict[str, str]:
    """What Dovecot tells the auth policy server of each login (mailserver.policy)."""
    return {
        "login": "%{requested_username}",
        "remote": syntax.remote_ip,
        "protocol": syntax.protocol,
        "credential": f"%{{userdb:{CREDENTIAL_FIELD}}}",
    }


def _pepper(layout: Layout) -> str:
    pepper = layout.app_password_pepper
    # Inside the digest's variable: %, ",", ":", "'", ")" and "}" would change or end it.
    if len(pepper) < 32 or any(char not in "0123456789abcdef" for char in pepper):
        raise ValueError("The app password pepper is 32 or more lower-case hex digits.")
    return pepper


def passdb_files(db: Database, layout: Layout) -> dict[str, tuple[str, int]]:
    """Dovecot's two passdb files (they hold the database password and the pepper)."""
    syntax = dovecot_syntax(layout)
    queries = {
        "app-passwords.conf.ext": APP_CREDENTIAL_QUERY.format(
            user=syntax.user, app_digest=syntax.app_digest.format(pepper=_pepper(layout))
        ),
        "mailbox-password.conf.ext": MAILBOX_CREDENTIAL_QUERY.format(
            local_part=syntax.local_part, domain=syntax.domain
        ),
    }
    setting = "password_query" if layout.dovecot_version == "2.3" else "sql_query"
    return {
        f"dovecot/{name}": (
            "# Written by `adminpanel mailserver-config`: a passdb (see adminpanel.conf).\n"
            + _dovecot_sql(db, layout.dovecot_version, read_only=True)
            + f"{setting} = {query}\n",
            SECRET,
        )
        for name, query in queries.items()
    }


# --- Dovecot's dicts: the storage it writes back, the Sieve scripts it reads ----------------


@dataclass(frozen=True)
class DictMap:
    """One key of a dict, read from (or written to) a column of a view or table."""

    pattern: str
    value_field: str
    value_type: str = ""  # "uint", or "" for text
    key_fields: tuple[tuple[str, str], ...] = ()  # (column, $variable of the pattern)


# quota_clone writes each mailbox's storage and message count, for the panel to show.
USAGE_MAPS = (
    DictMap("priv/quota/storage", "bytes", "uint"),
    DictMap("priv/quota/messages", "messages", "uint"),
)
# Pigeonhole asks for a script in two steps: its name gives a data id, the id its text.
SIEVE_MAPS = (
    DictMap(f"priv/sieve/name/{sieve.SCRIPT_NAME}", "script_id"),
    DictMap("priv/sieve/data/$script_id", "script", key_fields=(("script_id", "$script_id"),)),
)


def _dict_maps(table: str, maps: tuple[DictMap, ...], version: str) -> str:
    text = ""
    for entry in maps:
        if version == "2.3":
            fields = "".join(f"    {column} = {value}\n" for column, value in entry.key_fields)
            text += (
                f"map {{\n  pattern = {entry.pattern}\n  table = {table}\n"
                f"  username_field = address\n  value_field = {entry.value_field}\n"
                + (f"  value_type = {entry.value_type}\n" if entry.value_type else "")
                + (f"  fields {{\n{fields}  }}\n" if fields else "")
                + "}\n"
            )
        else:
            value_type = f"    type = {entry.value_type}\n" if entry.value_type else ""
            text += (
                f"dict_map {entry.pattern} {{\n  sql_table = {table}\n"
                f"  username_field = address\n  value_field {entry.value_field} {{\n"
                f"{value_type}  }}\n"
                + "".join(
                    f"  key_field {column} {{\n    value = {value}\n  }}\n"
                    for column, value in entry.key_fields
                )
                + "}\n"
            )
    return text


def _usage_dict_conf(db: Database, version: str) -> str:
    return (
        "# Written by `adminpanel mailserver-config`: where Dovecot's quota_clone writes\n"
        "# each mailbox's storage, for the panel to show.\n"
        + _dovecot_sql(db, version, dict_file=True)
        + _dict_maps("mailserver_usage", USAGE_MAPS, version)
    )


def _sieve_dict_conf(db: Database, version: str) -> str:
    return (
        "# Written by `adminpanel mailserver-config`: each mailbox's Sieve script (Forwarding\n"
        "# and Automatic reply), read live from the view mailserver_sieve.\n"
        + _dovecot_sql(db, version, read_only=True, dict_file=True)
        + _dict_maps("mailserver_sieve", SIEVE_MAPS, version)
    )


def database_owner(db: Database) -> str:
    """The user who owns the SQLite database file (the panel's user), "root" when unknown."""
    try:
        return pwd.getpwuid(os.stat(db.name).st_uid).pw_name
    except (OSError, KeyError):
        return "root"


# Settings both versions spell alike. A message bigger than the whole quota gets the same
# answer as a full mailbox: 2.3 falls back to overquota when toolarge is unset, but 2.4.1
# answers an empty "action=" then, which Postfix cannot read.
QUOTA_STATUS = {
    "quota_status_success": "DUNNO",
    "quota_status_nouser": "DUNNO",
    "quota_status_overquota": "552 5.2.2 Mailbox is full",
    "quota_status_toolarge": "552 5.2.2 Mailbox is full",
}


def _policy_settings(layout: Layout) -> str:
    # Password guessing per mailbox (issue 21 item 3) and per client IP (issue 22): Dovecot
    # asks `adminpanel mailserver-policy` before each login and reports each result, with the
    # credential that opened it (last used, the Logs); after too many failures of one mailbox,
    # or from one address, even the right password is refused for a while. Down: logins go on.
    return (
        f"auth_policy_server_url = http://{layout.policy_address}/\n"
        f"auth_policy_hash_nonce = {secrets.token_hex(16)}\n"
        "auth_policy_check_before_auth = yes\n"
        "auth_policy_check_after_auth = no\n"
        "auth_policy_report_after_auth = yes\n"
    )


PREFORKED_PROCESSES = 4
# Sessions one IMAP process serves, one after another, before it exits (Dovecot's performance
# tuning advice for imap: 100; not unlimited, so a process's memory is given back now and then).
IMAP_SESSIONS_PER_PROCESS = 100
AUTH_CLIENT_LIMIT = 4096


def _dovecot_services(db: Database, layout: Layout, syntax: DovecotSyntax) -> str:
    """The services' settings, written alike by 2.3 and 2.4."""
    user, group = layout.listener_owner
    # On SQLite Dovecot opens the panel's database file itself (SQLite has no narrower door:
    # no roles, no grants). Its lookups run in auth workers (root by default) and the usage
    # dict writes the file: both run as the file's owner, the panel's user, never root, and
    # the passdb/userdb and Sieve lookups open it read-only.
    owner = ""
    if db.vendor == "sqlite":
        owner = "".join(
            f"service {service} {{\n  user = {database_owner(db)}\n}}\n"
            for service in ("dict", "auth-worker")
        )
    listener = f"    mode = 0600\n    user = {user}\n    group = {group}\n  }}\n"
    return f"""{owner}service lmtp {{
  unix_listener {layout.lmtp_listener} {{
{listener}}}
service quota-status {{
  executable = quota-status -p postfix
  unix_listener {layout.quota_status_listener} {{
{listener}  client_limit = 1
}}
# SMTP AUTH (SPEC §15): Postfix's submission asks Dovecot here, so a login that opens IMAP
# opens SMTP, by the same passdb and the same limits. An IMAP process that serves several
# sessions keeps its connection to auth, and Dovecot wants room for all of them at once (with
# Debian's process limits 1,324; it warns when there is not).
service auth {{
  client_limit = {AUTH_CLIENT_LIMIT}
  unix_listener {layout.sasl_listener} {{
{listener}}}
# Dovecot's high-security login mode stays: a login process, which reads the typed password,
# serves one connection and exits. A few wait ready, so a mail app's login does not wait for a
# program to start. An IMAP process (after the login: no password in it) serves up to
# IMAP_SESSIONS_PER_PROCESS sessions one after another instead of one: every IMAP process runs
# as the one vmail user (first_valid_uid = last_valid_uid), so any of them could already open
# every mailbox's files, and starting one per session was a third of a login's CPU (README).
service imap-login {{
  process_min_avail = {PREFORKED_PROCESSES}
}}
service imap {{
  process_min_avail = {PREFORKED_PROCESSES}
  {syntax.requests_per_process} = {IMAP_SESSIONS_PER_PROCESS}
}}
"""


def _dovecot23_conf(db: Database, layout: Layout) -> str:
    syntax = DOVECOT_SYNTAX["2.3"]
    driver = "pgsql" if db.vendor == "postgresql" else "sqlite"
    attributes = " ".join(f"{key}={value}" for key, value in policy_attributes(syntax).items())
    passdbs = "".join(
        f"passdb {{\n  driver = sql\n  args = {layout.dovecot_dir}/{name}\n}}\n" for name in PASSDBS
    )
    quota_status = "".join(f"  {key} = {value}\n" for key, value in QUOTA_STATUS.items())
    tls = f"ssl = yes\nssl_cert = <{layout.certfile}\nssl_key = <{layout.keyfile}\n"
    # LMTP itself is switched on by Debian's dovecot-lmtpd (protocols.d/lmtpd.protocol).
    return f"""# Written by `adminpanel mailserver-config`: the panel's mailboxes for Dovecot 2.3.
auth_mechanisms = plain login
# Addresses are looked up in lower case, like Postfix does.
auth_username_format = {syntax.username_format}
# No auth cache: a password change or a deactivation must count at the next login.
auth_cache_size = 0
{_policy_settings(layout)}auth_policy_request_attributes = {attributes}
# 1) an app password of the mailbox, 2) the mailbox password where allowed (SPEC §14)
{passdbs}userdb {{
  driver = sql
  args = {layout.dovecot_dir}/sql.conf.ext
}}
mail_uid = vmail
mail_gid = vmail
first_valid_uid = {layout.vmail_uid}
last_valid_uid = {layout.vmail_uid}
# Each mailbox's maildir comes from the userdb (its `mail`); its home is inside it.
mail_location = maildir:~/..
# Mail to user+tag@domain: LMTP and quota-status look up user@domain, and the message goes to
# the INBOX (not to a folder named after the tag: the user's filters may sort it).
recipient_delimiter = {RECIPIENT_DELIMITER}
lmtp_save_to_detail_mailbox = no
mail_plugins = $mail_plugins quota quota_clone
protocol imap {{
  mail_plugins = $mail_plugins imap_quota
}}
# Forwarding and Automatic reply (SPEC §16): Pigeonhole runs the script the panel rendered,
# read at each delivery from mailserver_sieve (no file to sync). Before the user's own script,
# if any; a mailbox without a row gets plain delivery.
protocol lmtp {{
  mail_plugins = $mail_plugins sieve
}}
plugin {{
  quota = count:Mailbox
  quota_vsizes = yes
  quota_rule = *:storage=0
  quota_clone_dict = proxy::adminpanel_usage
{quota_status}  quota_grace = {QUOTA_GRACE_PERCENT}%%
  sieve_before = dict:proxy::adminpanel_sieve;name={sieve.SCRIPT_NAME}
  sieve_max_redirects = {sieve.MAX_REDIRECTS}
}}
dict {{
  adminpanel_usage = {driver}:{layout.dovecot_dir}/usage-dict.conf.ext
  adminpanel_sieve = {driver}:{layout.dovecot_dir}/sieve-dict.conf.ext
}}
{_dovecot_services(db, layout, syntax)}{tls if layout.certfile else ""}"""


def _dovecot24_conf(db: Database, layout: Layout) -> str:
    syntax = DOVECOT_SYNTAX["2.4"]
    attributes = "".join(f"  {key} = {value}\n" for key, value in policy_attributes(syntax).items())
    passdbs = "".join(
        f"passdb {name} {{\n  driver = sql\n  !include {layout.dovecot_dir}/{path}\n}}\n"
        for path, name in PASSDBS.items()
    )
    dicts = "".join(
        f"  dict adminpanel_{name} {{\n    driver = sql\n"
        f"    !include {layout.dovecot_dir}/{name}-dict.conf.ext\n  }}\n"
        for name in ("usage", "sieve")
    )
    quota_status = "".join(f"{key} = {value}\n" for key, value in QUOTA_STATUS.items())
    # The certificate is read by name (2.3 read "<file"); Debian 13 names its own in
    # conf.d/10-ssl.conf, which these replace.
    tls = f"ssl = yes\nssl_server_cert_file = {layout.certfile}\n"
    tls += f"ssl_server_key_file = {layout.keyfile}\n"
    return f"""# Written by `adminpanel mailserver-config`: the panel's mailboxes for Dovecot 2.4.
# The passdbs, the userdb and the dicts !include their SQL settings from files of mode 0600
# (the database password, the pepper); `doveconf -n` shows them to root.
auth_mechanisms = plain login
# Addresses are looked up in lower case, like Postfix does: 2.4's default auth_username_format
# (Debian 13 strips the domain for LMTP: undone below).
# No auth cache: a password change or a deactivation must count at the next login.
auth_cache_size = 0
{_policy_settings(layout)}# Only these (2.4 adds more by default, a hash of the typed password too).
auth_policy_request_attributes =
auth_policy_request_attributes {{
{attributes}}}
# 1) an app password of the mailbox, 2) the mailbox password where allowed (SPEC §14)
{passdbs}userdb adminpanel {{
  driver = sql
  !include {layout.dovecot_dir}/sql.conf.ext
}}
mail_uid = vmail
mail_gid = vmail
first_valid_uid = {layout.vmail_uid}
last_valid_uid = {layout.vmail_uid}
# Each mailbox's maildir comes from the userdb (its mail_path); its home is inside it. The
# INBOX is the maildir's own (Debian 13's 10-mail.conf puts it in /var/mail, as mbox).
mail_driver = maildir
mail_path = ~/..
mail_inbox_path =
# Mail to user+tag@domain: LMTP and quota-status look up user@domain, and the message goes to
# the INBOX (not to a folder named after the tag: the user's filters may sort it).
recipient_delimiter = {RECIPIENT_DELIMITER}
lmtp_save_to_detail_mailbox = no
mail_plugins {{
  quota = yes
  quota_clone = yes
}}
protocol imap {{
  mail_plugins {{
    imap_quota = yes
  }}
}}
# Forwarding and Automatic reply (SPEC §16): Pigeonhole runs the script the panel rendered,
# read at each delivery from mailserver_sieve (no file to sync). Before the user's own script,
# if any; a mailbox without a row gets plain delivery.
protocol lmtp {{
  auth_username_format = {syntax.username_format}
  mail_plugins {{
    sieve = yes
  }}
}}
# Each mailbox's size and grace come from the userdb.
quota Mailbox {{
  driver = count
}}
quota_clone {{
  dict proxy {{
    name = adminpanel_usage
  }}
}}
{quota_status}# The mailbox's personal script, not a "before" one as on 2.3: Pigeonhole 2.4.1
# (Debian 13) refuses delivery (451) when a "before" script in a dict is missing, as for every
# mailbox without Forwarding or Automatic reply (fixed upstream after 2.4.1, commit 38ead18e).
# Mail apps cannot upload scripts of their own (no ManageSieve), so nothing else is displaced.
sieve_script adminpanel {{
  type = personal
  driver = dict
  name = {sieve.SCRIPT_NAME}
  dict proxy {{
    name = adminpanel_sieve
  }}
}}
sieve_max_redirects = {sieve.MAX_REDIRECTS}
dict_server {{
{dicts}}}
{_dovecot_services(db, layout, syntax)}{tls if layout.certfile else ""}"""


def dovecot_files(db: Database, layout: Layout) -> dict[str, tuple[str, int]]:
    """Dovecot's files for the layout's version: the same names and modes for 2.3 and 2.4."""
    dovecot_syntax(layout)  # a version it cannot write is refused here
    version = layout.dovecot_version
    conf = _dovecot23_conf if version == "2.3" else _dovecot24_conf
    files = {
        "dovecot/adminpanel.conf": (conf(db, layout), PUBLIC),
        "dovecot/sql.conf.ext": (_sql_conf(db, layout), SECRET),
    }
    files.update(passdb_files(db, layout))
    # The dict process reads these: on PostgreSQL (Dovecot's user, group dovecot) they hold the
    # role's password; on SQLite (the database's owner) only the file's path.
    dict_mode = PUBLIC if db.vendor == "sqlite" else SECRET
    files["dovecot/usage-dict.conf.ext"] = (_usage_dict_conf(db, version), dict_mode)
    files["dovecot/sieve-dict.conf.ext"] = (_sieve_dict_conf(db, version), dict_mode)
    return files


def render(db: Database, layout: Layout) -> dict[str, tuple[str, int]]:
    """Every file, by its path under the output dir: (text, mode)."""
    settings = postfix_settings(db, layout)
    main_cf = "# Written by `adminpanel mailserver-config`: add these to Postfix's main.cf.\n"
    main_cf += "".join(f"{name} = {value}\n" for name, value in settings.items())
    master_cf = (
        "# Written by `adminpanel mailserver-config`: Postfix's submission services, one\n"
        "# `postconf -M -e` argument a line (README: Connect your mail server).\n"
    )
    master_cf += "".join(f"{name}={entry}\n" for name, entry in master_services(layout).items())
    files: dict[str, tuple[str, int]] = {
        "postfix/main.cf": (main_cf, PUBLIC),
        "postfix/master.cf": (master_cf, PUBLIC),
    }
    if db.vendor == "postgresql" or layout.postfix_reads_sqlite:
        for name, query in map_queries(db, layout).items():
            files[f"postfix/{name}.cf"] = (_postfix_map(db, query), SECRET)
    files.update(dovecot_files(db, layout))
    files["opendkim/opendkim.conf"] = (
        dkim.opendkim_conf(
            layout.dkim_tables, port=layout.milter_port, pid_file=layout.dkim_pid_file
        ),
        PUBLIC,
    )
    return files


def write(files: dict[str, tuple[str, int]], out: Path) -> list[Path]:
    """Write the files under `out` (secrets created 0600 from the start); returns their paths."""
    written = []
    for relative, (text, mode) in files.items():
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        os.fchmod(fd, mode)  # whatever the umask
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write(text)
        written.append(path)
    return written
