"""The mail host's services, written by `mailserver-config` beside the Postfix and Dovecot files
(README step 5), from the same Layout: the ports in the units are the ones main.cf and Dovecot's
settings name, never typed twice. systemd units where the host has systemd, one init script
(start-stop-daemon) where it has not, a cron file for the purge, and the environment they all
read (mode 0600: it may hold the database password).
"""

from __future__ import annotations

import shlex
from pathlib import Path

from adminpanel.mailserver.config import PUBLIC, SECRET, Database, Layout

ENV_FILE = Path("/etc/adminpanel/mailserver.env")
LOG_DIR = Path("/var/log")  # without systemd, each service writes its own log file there
EXECUTABLE = 0o755


def _commands(db: Database, layout: Layout) -> dict[str, tuple[str, list[str]]]:
    """name -> (user, arguments of `adminpanel`) for each long-running service."""
    services = {
        "adminpanel-mailserver-policy": (
            "panel",
            [
                "mailserver-policy",
                "--listen",
                layout.policy_address,
                "--postfix-listen",
                layout.room_address,
            ],
        ),  # fmt: skip
        # Submission's From: check (a milter); down, Postfix answers 451 to mail sent with a login.
        "adminpanel-sender-check": (
            "panel",
            ["mailserver-sender-check", "--listen", layout.sender_check_address],
        ),
        # root: doveadm kick
        "adminpanel-end-sessions": ("root", ["mailserver-end-sessions", "--every", "2"]),
    }
    if db.vendor == "sqlite" and not layout.postfix_reads_sqlite:
        services["adminpanel-mailserver-lookup"] = (
            "panel",
            ["mailserver-lookup", "--listen", layout.lookup_address],
        )
    return services


def environment(variables: dict[str, str]) -> str:
    return (
        "# Written by `adminpanel mailserver-config`: the panel's settings for the mail host.\n"
        + ("".join(f"{name}={value}\n" for name, value in variables.items()))
    )


def _systemd_unit(name: str, user: str, program: str, arguments: list[str]) -> str:
    # The servers Postfix and Dovecot ask start before them; the kicker needs Dovecot up.
    before = arguments[0] != "mailserver-end-sessions"
    order = "Before=postfix.service dovecot.service" if before else "After=dovecot.service"
    return f"""# Written by `adminpanel mailserver-config`.
[Unit]
Description=Admin Panel: {name}
{order}
[Service]
{"" if user == "root" else f"User={user}{chr(10)}"}EnvironmentFile={ENV_FILE}
ExecStart={shlex.join([program, *arguments])}
Restart=always
[Install]
WantedBy=multi-user.target
"""


def _init_script(services: dict[str, tuple[str, list[str]]], program: str) -> str:
    starts, stops = [], []
    for name, (user, arguments) in services.items():
        pidfile = f"/run/{name}.pid"
        command = shlex.join([program, *arguments])
        log = f"{LOG_DIR}/{name}.log"
        starts.append(f"  touch {log} && chown {user} {log}")
        starts.append(
            f"  start-stop-daemon --start --oknodo --background --make-pidfile "
            f"--pidfile {pidfile} --output {log} --chuid {user} "
            "--startas /bin/sh -- -c "
            f"{shlex.quote(f'set -a; . {ENV_FILE}; set +a; exec {command}')}"
        )
        stops.append(
            f"  start-stop-daemon --stop --oknodo --retry 10 --pidfile {pidfile} --remove-pidfile"
        )
    return f"""#!/bin/sh
### BEGIN INIT INFO
# Provides:          adminpanel-mailserver
# Required-Start:    $network $remote_fs
# Required-Stop:     $network $remote_fs
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: Admin Panel's services for Postfix and Dovecot
### END INIT INFO
# Written by `adminpanel mailserver-config`, for hosts without systemd.
case "$1" in
start)
{chr(10).join(starts)}
  ;;
stop)
{chr(10).join(stops)}
  ;;
restart)
  "$0" stop && "$0" start
  ;;
*)
  echo "Usage: $0 start|stop|restart" >&2
  exit 2
  ;;
esac
"""


def render(
    db: Database, layout: Layout, *, program: str, panel_user: str, variables: dict[str, str]
) -> dict[str, tuple[str, int]]:
    """Every file, by its path under the output dir: (text, mode)."""
    services = {
        name: (panel_user if user == "panel" else user, arguments)
        for name, (user, arguments) in _commands(db, layout).items()
    }
    files: dict[str, tuple[str, int]] = {
        "mailserver.env": (environment(variables), SECRET),
        "init.d/adminpanel-mailserver": (_init_script(services, program), EXECUTABLE),
    }
    for name, (user, arguments) in services.items():
        files[f"systemd/{name}.service"] = (
            _systemd_unit(name, user, program, arguments),
            PUBLIC,
        )
    purge = shlex.join([program, "mailserver-purge", "--mail-root", str(layout.mail_root)])
    files["cron.d/adminpanel-purge"] = (
        "# Written by `adminpanel mailserver-config`: the purge of deleted mailboxes' mail,\n"
        "# hourly, as root (it removes vmail's files).\n"
        f"17 * * * * root set -a; . {ENV_FILE}; set +a; {purge}\n",
        PUBLIC,
    )
    return files
