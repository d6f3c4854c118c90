"""The mail host's services, written by `mailserver-config` beside the Postfix and Dovecot files
(README step 5), from the same Layout: the ports in the units are the ones main.cf and Dovecot's
settings name, never typed twice. systemd units where the host has systemd, one init script
(start-stop-daemon) where it has not, a cron file for the purge, and the environment they all
read (mode 0600: it may hold the database password).

The DKIM sync (README step 8) is a service of its own, in opendkim/ beside OpenDKIM's settings:
it comes after OpenDKIM is installed, and it also reads DKIM_ENV, which holds the one secret
of the panel it needs (DKIM_ENCRYPTION_KEYS) and which the operator writes, so step 5 must not
start it.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from adminpanel.mailserver.config import PUBLIC, SECRET, Database, Layout

ENV_FILE = Path("/etc/adminpanel/mailserver.env")
DKIM_ENV = Path("/etc/adminpanel/dkim.env")
DKIM_SERVICE = "adminpanel-dkim"
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


def _dkim_command(layout: Layout) -> list[str]:
    """root: it writes OpenDKIM's keys (root:opendkim, 0640) and signals OpenDKIM."""
    return [
        "mailserver-dkim",
        "--out",
        str(layout.dkim_tables),
        "--pid-file",
        str(layout.dkim_pid_file),
        "--every",
        "60",
    ]


def _order(arguments: list[str]) -> str:
    # The servers Postfix and Dovecot ask start before them; the kicker needs Dovecot up, the
    # DKIM sync OpenDKIM (it tells the running one to read its keys again).
    if arguments[0] == "mailserver-end-sessions":
        return "After=dovecot.service"
    if arguments[0] == "mailserver-dkim":
        return "After=opendkim.service"
    return "Before=postfix.service dovecot.service"


def _systemd_unit(
    name: str, user: str, program: str, arguments: list[str], env_files: tuple[Path, ...]
) -> str:
    service = "" if user == "root" else f"User={user}\n"
    service += "".join(f"EnvironmentFile={path}\n" for path in env_files)
    return f"""# Written by `adminpanel mailserver-config`.
[Unit]
Description=Admin Panel: {name}
{_order(arguments)}
[Service]
{service}ExecStart={shlex.join([program, *arguments])}
Restart=always
[Install]
WantedBy=multi-user.target
"""


def _init_script(
    services: dict[str, tuple[str, list[str]]],
    program: str,
    *,
    provides: str = "adminpanel-mailserver",
    description: str = "Admin Panel's services for Postfix and Dovecot",
    env_files: tuple[Path, ...] = (ENV_FILE,),
) -> str:
    sources = " ".join(f". {path};" for path in env_files)
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
            f"{shlex.quote(f'set -a; {sources} set +a; exec {command}')}"
        )
        stops.append(
            f"  start-stop-daemon --stop --oknodo --retry 10 --pidfile {pidfile} --remove-pidfile"
        )
    return f"""#!/bin/sh
### BEGIN INIT INFO
# Provides:          {provides}
# Required-Start:    $network $remote_fs
# Required-Stop:     $network $remote_fs
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: {description}
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
            _systemd_unit(name, user, program, arguments, (ENV_FILE,)),
            PUBLIC,
        )
    dkim_envs = (ENV_FILE, DKIM_ENV)
    dkim_service = {DKIM_SERVICE: ("root", _dkim_command(layout))}
    files[f"opendkim/{DKIM_SERVICE}.service"] = (
        _systemd_unit(DKIM_SERVICE, "root", program, _dkim_command(layout), dkim_envs),
        PUBLIC,
    )
    files[f"opendkim/{DKIM_SERVICE}"] = (
        _init_script(
            dkim_service,
            program,
            provides=DKIM_SERVICE,
            description="Admin Panel: OpenDKIM's keys from the panel",
            env_files=dkim_envs,
        ),
        EXECUTABLE,
    )
    purge = shlex.join([program, "mailserver-purge", "--mail-root", str(layout.mail_root)])
    files["cron.d/adminpanel-purge"] = (
        "# Written by `adminpanel mailserver-config`: the purge of deleted mailboxes' mail,\n"
        "# hourly, as root (it removes vmail's files).\n"
        f"17 * * * * root set -a; . {ENV_FILE}; set +a; {purge}\n",
        PUBLIC,
    )
    return files
