"""The `adminpanel mailserver-*` commands (SPEC §10). cli.py parses; these run."""

from __future__ import annotations

import argparse
import ipaddress
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection, transaction

from adminpanel.mailserver import config, dkim, policy, postconf, purge, senders, sessions, units
from adminpanel.mailserver.instance import (
    VMAIL,
    VMAIL_ID,
    MailServerError,
    PrivateMailServer,
    installed_dovecot_version,
)
from adminpanel.mailserver.lookup import LookupServer
from adminpanel.mailserver.roles import RoleError, ensure_role
from adminpanel.mailserver.room import RoomServer


def _stop_signal() -> threading.Event:
    """An event that Ctrl-C or SIGTERM sets from now on. Taken before a command starts
    anything: a signal that comes as soon as it says it is ready (a supervisor, a test) then
    stops it cleanly, where Python's default end would leave what it started running."""
    stop = threading.Event()
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: stop.set())
    return stop


def _wait_for(stop: threading.Event) -> None:
    """Block until Ctrl-C or SIGTERM (_stop_signal)."""
    while not stop.wait(1):
        pass


POSTMASTER = re.compile(r"\A[^@\s'\"\\,]+@[^@\s'\"\\,]+\.[^@\s'\"\\,]+\Z")
# A path Postfix's main.cf and Dovecot's `<file` take as it is: absolute, no white space.
CERTIFICATE_PATH = re.compile(r"\A/[^\s\0]+\Z")


def _certificate(args: argparse.Namespace, *, on_this_host: bool) -> tuple[str, str] | str:
    """(certfile, keyfile) from --certfile/--keyfile, or the one line saying what is wrong.
    `on_this_host`: the files must be readable here (mailserver-run); mailserver-config may
    write the settings for another host, so there the paths need only be absolute."""
    certfile = getattr(args, "certfile", None) or ""
    keyfile = getattr(args, "keyfile", None) or ""
    if bool(certfile) != bool(keyfile):
        return "--certfile and --keyfile go together: the certificate (full chain) and its key."
    for option, path in [("--certfile", certfile), ("--keyfile", keyfile)]:
        if not path:
            continue
        if on_this_host:
            path = str(Path(path).resolve())
        if not CERTIFICATE_PATH.match(path):
            return f"{option} wants an absolute path without spaces, not {path!r}."
        if on_this_host and not os.access(path, os.R_OK):
            return f"{option}: cannot read {path}."
    if on_this_host and certfile:
        return str(Path(certfile).resolve()), str(Path(keyfile).resolve())
    return certfile, keyfile


def _postmaster(args: argparse.Namespace) -> str | None:
    """--postmaster in lower case ("" when not given), or None after one line saying why not."""
    postmaster = (getattr(args, "postmaster", None) or "").strip().lower()
    if postmaster and not POSTMASTER.match(postmaster):
        print(f"--postmaster wants one address, e.g. hostmaster@example.net, not {postmaster!r}.",
              file=sys.stderr)  # fmt: skip
        return None
    return postmaster


def mailserver_config(args: argparse.Namespace) -> int:
    """Write the Postfix and Dovecot files for the configured database into --out."""
    settings = connection.settings_dict
    database = config.Database.of(settings)
    if database.vendor == "postgresql" and str(settings.get("HOST") or "").startswith("/"):
        print(
            f"ADMINPANEL_DATABASE_URL reaches PostgreSQL through a Unix socket "
            f"({settings['HOST']}), which Postfix's chrooted daemons cannot open: give it a TCP "
            "host (e.g. 127.0.0.1) for this command.",
            file=sys.stderr,
        )
        return 2
    postmaster = _postmaster(args)
    if postmaster is None:
        return 2
    certificate = _certificate(args, on_this_host=False)
    if isinstance(certificate, str):
        print(certificate, file=sys.stderr)
        return 2
    certfile, keyfile = certificate
    if args.role:
        if database.vendor != "postgresql":
            print("--role needs PostgreSQL (ADMINPANEL_DATABASE_URL).", file=sys.stderr)
            return 2
        try:
            with transaction.atomic():
                password = ensure_role(connection, args.role)
        except RoleError as error:
            print(error, file=sys.stderr)
            return 2
        database = config.Database.of(settings, user=args.role, password=password)
    addresses = _service_addresses(args)
    if addresses is None:
        return 2
    dovecot_version, how = _dovecot_version(args)
    out = Path(args.out).resolve()
    layout = replace(
        config.debian_layout(),
        postmaster=postmaster,
        app_password_pepper=django_settings.APP_PASSWORD_PEPPER,
        certfile=certfile,
        keyfile=keyfile,
        vmail_uid=_vmail_uid(),
        dovecot_version=dovecot_version,
        **addresses,
    )
    files = config.render(database, layout)
    files.update(_service_files(database, layout))
    written = config.write(files, out)
    for path in written:
        print(path)
    print(f"Dovecot {dovecot_version} settings ({how}).")
    if args.role:
        print(
            f"Role {args.role}: may read the mailserver_* views, record purged maildirs and "
            "mail logins (password in the files)."
        )
    if not postmaster:
        print(
            "postmaster@ of a domain takes mail only through its own postmaster alias or mailbox "
            "or its catch-all: give --postmaster ADDRESS for every domain (RFC 5321)."
        )
    if not certfile:
        print(
            "Submission (587, 465) and IMAP need TLS: give --certfile and --keyfile (e.g. "
            "/etc/letsencrypt/live/HOST/fullchain.pem and privkey.pem), or set the certificate "
            "in Postfix's and Dovecot's own settings."
        )
    print(
        "DKIM: opendkim/opendkim.conf is /etc/opendkim.conf; the service "
        f"{units.DKIM_SERVICE} (opendkim/{units.DKIM_SERVICE}.service, or the init script "
        f"opendkim/{units.DKIM_SERVICE}) gives OpenDKIM the panel's keys with "
        f"{units.DKIM_ENV} (README: Connect your mail server, step 8)."
    )
    print(
        f"The mail host's services (the auth and end-of-data policies, the From: check"
        f"{', the lookup server' if database.vendor == 'sqlite' else ''}, the end of IMAP "
        f"sessions) are in {out / 'systemd'}, or {out / 'init.d'} without systemd, the purge "
        f"in {out / 'cron.d'}: README step 5."
    )
    return 0


def _dovecot_version(args: argparse.Namespace) -> tuple[str, str]:
    """The Dovecot version to write for, and how it was chosen: --dovecot-version, else this
    host's Dovecot, else 2.4 (Debian 13's, what a mail host installed today runs)."""
    given = getattr(args, "dovecot_version", None)
    if given:
        return given, "--dovecot-version"
    installed = installed_dovecot_version()
    if installed:
        return installed, "the Dovecot installed here; --dovecot-version 2.3|2.4 for another"
    return "2.4", "no Dovecot here: --dovecot-version 2.3 for Debian 12's"


LISTEN = re.compile(r"\A(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})\Z")


def _service_addresses(args: argparse.Namespace) -> dict[str, str] | None:
    """The mail host's services' HOST:PORT (Layout fields), as given; None after one line."""
    addresses = {}
    for option, field in [
        ("lookup_listen", "lookup_address"),
        ("policy_listen", "policy_address"),
        ("postfix_policy_listen", "room_address"),
        ("sender_check_listen", "sender_check_address"),
    ]:
        value = getattr(args, option, None)
        if not value:
            continue
        match = LISTEN.match(value)
        if not match or not 0 < int(match.group(2)) < 65536:
            flag = "--" + option.replace("_", "-")
            print(f"{flag} is HOST:PORT, e.g. 127.0.0.1:7520, not {value!r}.", file=sys.stderr)
            return None
        addresses[field] = value
    return addresses


def _vmail_uid() -> int:
    """The uid of this host's vmail user when it has one (README step 1 keeps an existing one),
    else the one step 1 creates."""
    try:
        return pwd.getpwnam(VMAIL).pw_uid
    except KeyError:
        return VMAIL_ID


def _service_files(database: config.Database, layout: config.Layout):
    """The mail host's services, from the same layout (mailserver/units.py)."""
    script = Path(sys.executable).with_name("adminpanel")
    program = str(script) if script.exists() else str(Path(sys.argv[0]).resolve())
    data_dir = Path(django_settings.DATA_DIR)
    try:
        owner = pwd.getpwuid(data_dir.stat().st_uid).pw_name
    except (OSError, KeyError):
        owner = "root"
    variables = {"ADMINPANEL_DATA_DIR": str(data_dir)}
    if database.vendor == "postgresql":
        # The mail role's URL with --role: the services need no more than the mail servers.
        variables["ADMINPANEL_DATABASE_URL"] = database.postfix_uri()
    return units.render(database, layout, program=program, panel_user=owner, variables=variables)


def mailserver_postconf(args: argparse.Namespace) -> int:
    """Put the generated main.cf settings into this host's Postfix, keeping the operator's own
    restrictions, and the generated master.cf services (README step 3); running it again
    changes nothing."""
    texts = {}
    for path in [args.file, getattr(args, "master", None)]:
        if not path:
            continue
        try:
            texts[path] = Path(path).read_text(encoding="utf-8")
        except OSError as error:
            print(f"Cannot read {path}: {error.strerror}.", file=sys.stderr)
            return 2
    config_dir = Path(args.config_dir)
    try:
        generated = postconf.settings_of(texts[args.file])
        for line in postconf.apply(config_dir, generated, postconf.run_command):
            print(line)
        if getattr(args, "master", None):
            services = postconf.services_of(texts[args.master])
            for line in postconf.apply_services(config_dir, services, postconf.run_command):
                print(line)
    except subprocess.CalledProcessError as error:
        said = (error.stderr or "").strip().splitlines()
        print(f"postconf failed: {said[-1] if said else error.returncode}", file=sys.stderr)
        return 1
    return 0


def mailserver_run(args: argparse.Namespace) -> int:
    """A private Postfix + Dovecot on 127.0.0.1 until Ctrl-C or SIGTERM."""
    certificate = _certificate(args, on_this_host=True)
    if isinstance(certificate, str):
        print(certificate, file=sys.stderr)
        return 2
    postmaster = _postmaster(args)
    if postmaster is None:
        return 2
    call_command("migrate", interactive=False, verbosity=0)
    database = config.Database.of(connection.settings_dict)
    directory = Path(tempfile.mkdtemp(prefix="adminpanel-mail-"))
    try:
        server = PrivateMailServer(
            directory,
            database,
            smtp_port=args.smtp_port,
            imap_port=args.imap_port,
            relayhost=args.relayhost,
            submission_port=args.submission_port,
            submissions_port=args.submissions_port,
            certfile=certificate[0],
            keyfile=certificate[1],
            postmaster=postmaster,
        )
    except MailServerError as error:
        print(error, file=sys.stderr)
        shutil.rmtree(directory, ignore_errors=True)
        return 2
    stop = _stop_signal()
    try:
        server.start()
        submissions = (
            f", submissions (TLS) 127.0.0.1:{args.submissions_port}"
            if args.submissions_port
            else ""
        )
        certificate_note = (
            certificate[0] or f"{directory}/tls/cert.pem (self-signed: tell clients to accept it)"
        )
        print(
            f"Mail servers of the panel ({database.vendor}) in {directory}\n"
            f"  SMTP (Postfix): 127.0.0.1:{args.smtp_port}   IMAP (Dovecot): "
            f"127.0.0.1:{args.imap_port} (STARTTLS)\n"
            f"  sending with a login: submission (STARTTLS) 127.0.0.1:{args.submission_port}"
            f"{submissions}\n  certificate: {certificate_note}\n"
            f"  logs: {server.log_dir}\n  Ctrl-C stops both.",
            flush=True,
        )
        _wait_for(stop)
        print("Stopping the mail servers…", flush=True)
    except MailServerError as error:
        print(error, file=sys.stderr)
        return 1
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)
    return 0


def mailserver_purge(args: argparse.Namespace) -> int:
    """On the mail host: remove the maildirs of deleted mailboxes whose grace period is over;
    once, or every --every seconds until stopped."""
    database = config.Database.of(connection.settings_dict)
    mail_root = Path(args.mail_root)
    if not mail_root.is_dir():
        print(
            f"{mail_root} is not a directory (--mail-root: where the maildirs are).",
            file=sys.stderr,
        )
        return 2
    stop = _stop_signal()
    while True:
        try:
            for maildir in purge.purge_due(database, mail_root):
                print(f"purged {maildir}", flush=True)
        except purge.PurgeError as error:
            print(error, file=sys.stderr)
            return 1
        except purge.DATABASE_ERRORS as error:
            print(error, file=sys.stderr, flush=True)
            if not args.every:
                return 1
        if not args.every or stop.wait(args.every):
            return 0


def mailserver_end_sessions(args: argparse.Namespace) -> int:
    """On the mail host: end the open IMAP sessions the panel asked to end (a new password, a
    disabled, renamed or deleted mailbox); once, or every --every seconds until stopped."""
    database = config.Database.of(connection.settings_dict)
    doveadm = ["doveadm"] + (["-c", args.dovecot_config] if args.dovecot_config else [])
    stop = _stop_signal()
    while True:
        try:
            for address in sessions.end_requested(database, doveadm, args.host_name):
                print(f"ended the IMAP sessions of {address}", flush=True)
        except (sessions.EndSessionsError, OSError, *purge.DATABASE_ERRORS) as error:
            print(error, file=sys.stderr, flush=True)
            if not args.every:
                return 1
        if not args.every or stop.wait(args.every):
            return 0


def mailserver_dkim(args: argparse.Namespace) -> int:
    """On the mail host: OpenDKIM's key files and tables from the panel's DKIM keys (the view
    mailserver_dkim_keys, decrypted with ADMINPANEL_DKIM_ENCRYPTION_KEYS), reloading OpenDKIM
    when they changed; once, or every --every seconds until stopped."""
    database = config.Database.of(connection.settings_dict)
    directory = Path(args.out)
    stop = _stop_signal()
    while True:
        try:
            if dkim.sync(
                purge.connect_for_housekeeping(database),
                directory,
                django_settings.DKIM_ENCRYPTION_KEYS,
                Path(args.pid_file),
            ):
                print(f"DKIM keys written to {directory}", flush=True)
        except (dkim.DkimError, OSError, *purge.DATABASE_ERRORS) as error:
            print(error, file=sys.stderr, flush=True)
            if not args.every:
                return 1
        if not args.every or stop.wait(args.every):
            return 0


def mailserver_policy(args: argparse.Namespace) -> int:
    """Serve Dovecot's auth policy (limits on failed logins per mailbox and per client IP; the
    record of mail-app logins) and Postfix's end-of-data policy (a message must fit the room
    left in its mailbox) until stopped."""
    database = config.Database.of(connection.settings_dict)
    host, _, port = args.listen.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    if not port.isdigit() or not 0 < int(port) < 65536 or not _loopback(host):
        print("--listen is a loopback HOST:PORT, e.g. 127.0.0.1:7521.", file=sys.stderr)
        return 2
    room_host, _, room_port = args.postfix_listen.rpartition(":")
    room_host = room_host.strip("[]") or "127.0.0.1"
    if not room_port.isdigit() or not 0 < int(room_port) < 65536 or not _loopback(room_host):
        print("--postfix-listen is a loopback HOST:PORT, e.g. 127.0.0.1:7522.", file=sys.stderr)
        return 2
    limits = policy.Limits(database, args.failures, int(args.minutes * 60), args.ip_failures)
    stop = _stop_signal()
    server = policy.PolicyServer(limits, host, int(port)).start()
    print(f"Dovecot's auth policy on {server.address}", flush=True)
    try:
        room_server = RoomServer(database, room_host, int(room_port)).start()
    except BaseException:
        server.stop()
        raise
    print(f"Postfix's end-of-data policy (room left) on {room_server.address}", flush=True)
    try:
        _wait_for(stop)
    finally:
        server.stop()
        room_server.stop()
    return 0


def mailserver_sender_check(args: argparse.Namespace) -> int:
    """Serve the From: check of submission (a Postfix milter) until stopped."""
    database = config.Database.of(connection.settings_dict)
    host, _, port = args.listen.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    if not port.isdigit() or not 0 < int(port) < 65536 or not _loopback(host):
        print("--listen is a loopback HOST:PORT, e.g. 127.0.0.1:7523.", file=sys.stderr)
        return 2
    stop = _stop_signal()
    server = senders.SenderCheckServer(database, host, int(port)).start()
    print(f"The From: check (milter) on {server.address}", flush=True)
    try:
        _wait_for(stop)
    finally:
        server.stop()
    return 0


def mailserver_lookup(args: argparse.Namespace) -> int:
    """Serve Postfix's socketmap lookups from the SQLite database until stopped."""
    database = config.Database.of(connection.settings_dict)
    if database.vendor != "sqlite":
        print("On PostgreSQL Postfix reads the views itself (pgsql:).", file=sys.stderr)
        return 2
    host, _, port = args.listen.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    if not port.isdigit() or not 0 < int(port) < 65536:
        print("--listen is HOST:PORT, e.g. 127.0.0.1:7520.", file=sys.stderr)
        return 2
    if not _loopback(host) and not args.allow_remote:
        print(
            f"{host} is not a loopback address: anyone who reaches it could ask which addresses "
            "exist. Give --allow-remote to listen there anyway (behind a firewall).",
            file=sys.stderr,
        )
        return 2
    stop = _stop_signal()
    server = LookupServer(database.name, host, int(port)).start()
    print(f"Postfix lookups on {server.address} from {database.name}", flush=True)
    try:
        _wait_for(stop)
    finally:
        server.stop()
    return 0


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _certificate_options(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--certfile", metavar="FILE", help=f"certificate, full chain ({what})")
    parser.add_argument("--keyfile", metavar="FILE", help="the certificate's private key")


def add_parsers(commands, setup: Callable[[], None]) -> None:
    """The mailserver-* sub-commands; `setup` configures Django before each runs."""

    def after_setup(run):
        def wrapped(args):
            setup()
            return run(args)

        return wrapped

    parser = commands.add_parser(
        "mailserver-config", help="write the Postfix and Dovecot files for this database"
    )
    parser.add_argument("--out", required=True, help="directory for the files")
    parser.add_argument("--role", help="PostgreSQL: create/update this read-only login role")
    parser.add_argument(
        "--postmaster",
        metavar="ADDRESS",
        help="where postmaster@ of a domain without its own postmaster or catch-all goes",
    )
    _certificate_options(parser, "on the mail host: Postfix's and Dovecot's TLS")
    parser.add_argument(
        "--dovecot-version",
        choices=config.DOVECOT_VERSIONS,
        help="the mail host's Dovecot: 2.3 (Debian 12) or 2.4 (Debian 13); default: the one "
        "installed here (`dovecot --version`), else 2.4",
    )
    for option, default, what in [
        ("--lookup-listen", "127.0.0.1:7520", "the lookup server (SQLite)"),
        ("--policy-listen", "127.0.0.1:7521", "Dovecot's auth policy server"),
        ("--postfix-policy-listen", "127.0.0.1:7522", "Postfix's end-of-data policy"),
        ("--sender-check-listen", "127.0.0.1:7523", "the From: check of submission"),
    ]:
        parser.add_argument(option, metavar="HOST:PORT", help=f"{what} (default {default})")
    parser.set_defaults(run=after_setup(mailserver_config))
    parser = commands.add_parser(
        "mailserver-postconf",
        help="on the mail host: put the generated main.cf settings (keeping yours) and master.cf "
        "services into Postfix's",
    )
    parser.add_argument("file", help="the main.cf that mailserver-config wrote")
    parser.add_argument(
        "master", nargs="?", help="the master.cf that mailserver-config wrote (submission)"
    )
    parser.add_argument("--config-dir", default="/etc/postfix", help="Postfix's (postconf -c)")
    parser.set_defaults(run=mailserver_postconf)
    parser = commands.add_parser(
        "mailserver-run", help="a private Postfix and Dovecot on 127.0.0.1 (a local trial)"
    )
    parser.add_argument("--smtp-port", type=int, default=2525)
    parser.add_argument("--imap-port", type=int, default=1143)
    parser.add_argument(
        "--relayhost",
        default="",
        metavar="HOST:PORT",
        help="where mail for other domains goes (sent mail, forwarding, automatic replies)",
    )
    parser.add_argument(
        "--submission-port", type=int, default=5870, help="submission with STARTTLS and login"
    )
    parser.add_argument(
        "--submissions-port", type=int, default=None, help="submissions (TLS); default: off"
    )
    _certificate_options(parser, "default: a self-signed one made for the trial")
    parser.add_argument(
        "--postmaster",
        metavar="ADDRESS",
        help="where postmaster@ of a domain without its own postmaster or catch-all goes",
    )
    parser.set_defaults(run=after_setup(mailserver_run))
    parser = commands.add_parser(
        "mailserver-sender-check",
        help="on the mail host: the From: check of submission (a Postfix milter)",
    )
    parser.add_argument("--listen", default="127.0.0.1:7523", help="HOST:PORT (loopback)")
    parser.set_defaults(run=after_setup(mailserver_sender_check))
    parser = commands.add_parser(
        "mailserver-purge",
        help="on the mail host: remove the mail of deleted mailboxes whose grace period is over",
    )
    parser.add_argument("--mail-root", default="/var/vmail", help="where the maildirs are")
    parser.add_argument(
        "--every", type=float, default=0, help="seconds between runs (default: run once)"
    )
    parser.set_defaults(run=after_setup(mailserver_purge))
    parser = commands.add_parser(
        "mailserver-policy",
        help="on the mail host: Dovecot's auth policy, a limit on failed logins per mailbox",
    )
    parser.add_argument("--listen", default="127.0.0.1:7521", help="HOST:PORT (loopback)")
    parser.add_argument(
        "--postfix-listen",
        default="127.0.0.1:7522",
        help="HOST:PORT (loopback) of Postfix's end-of-data policy: the room left in a mailbox",
    )
    parser.add_argument("--failures", type=int, default=policy.FAILURES)
    parser.add_argument(
        "--ip-failures",
        type=int,
        default=policy.IP_FAILURES,
        help="consecutive failures from one client IP, to any mailboxes, before it waits",
    )
    parser.add_argument("--minutes", type=float, default=policy.WAIT_SECONDS / 60)
    parser.set_defaults(run=after_setup(mailserver_policy))
    parser = commands.add_parser(
        "mailserver-end-sessions",
        help="on the mail host: end the IMAP sessions the panel asks to end (doveadm kick)",
    )
    parser.add_argument(
        "--every", type=float, default=0, help="seconds between runs (default: run once)"
    )
    parser.add_argument("--dovecot-config", help="dovecot.conf of the Dovecot to kick from")
    parser.add_argument(
        "--host-name",
        default=sessions.host_name(),
        help="this mail host's name, unique among the mail hosts (default: its host name)",
    )
    parser.set_defaults(run=after_setup(mailserver_end_sessions))
    parser = commands.add_parser(
        "mailserver-dkim",
        help="on the mail host: OpenDKIM's keys from the panel's (DKIM signing of sent mail)",
    )
    parser.add_argument(
        "--out", default=str(dkim.DEBIAN_TABLES), help="where OpenDKIM's tables and keys go"
    )
    parser.add_argument(
        "--pid-file",
        default=str(dkim.DEBIAN_PID_FILE),
        help="OpenDKIM's pid file: it is told to reload (SIGUSR1) when a key changed",
    )
    parser.add_argument(
        "--every", type=float, default=0, help="seconds between runs (default: run once)"
    )
    parser.set_defaults(run=after_setup(mailserver_dkim))
    parser = commands.add_parser(
        "mailserver-lookup", help="SQLite: answer Postfix's lookups (socketmap) for the views"
    )
    parser.add_argument("--listen", default="127.0.0.1:7520", help="HOST:PORT (loopback)")
    parser.add_argument(
        "--allow-remote", action="store_true", help="allow --listen on a non-loopback address"
    )
    parser.set_defaults(run=after_setup(mailserver_lookup))
