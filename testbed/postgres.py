"""A throwaway PostgreSQL cluster for tests and benchmarks.

Everything lives in one temporary directory (data, Unix socket, log): `initdb -A trust`, then
`pg_ctl start` on a free TCP port of 127.0.0.1, then `createdb`. No running service, no
password, nothing outside the temp dir; `stop()` (or leaving the `with` block) stops the
server and removes the directory.

PostgreSQL refuses to run as root, so under root the server binaries run as the `postgres`
system user (created when missing) and the temp dir is handed to it.
"""

from __future__ import annotations

import os
import pwd
import random
import shutil
import socket
import subprocess
import tempfile
import threading
from pathlib import Path

BIN_DIRS = [os.environ.get("ADMINPANEL_PG_BIN", ""), "/usr/lib/postgresql/15/bin"]
SERVICE_USER = "postgres"
SUPERUSER = "postgres"


def find_bin_dir() -> Path | None:
    """The first directory holding initdb and pg_ctl, or None."""
    for candidate in BIN_DIRS:
        if candidate and (Path(candidate) / "initdb").is_file():
            return Path(candidate)
    found = shutil.which("initdb")
    return Path(found).parent if found else None


# Servers the tests start listen on ports picked below the kernel's ephemeral range. A port
# from bind(0) is free only until an outgoing connection's source port takes it — and the
# server binds it seconds later (Postfix starts after migrate and Dovecot): "fatal: bind …
# Address already in use" on a busy machine. No port is handed out twice in one process.
_handed_out: set[int] = set()
_handed_out_lock = threading.Lock()


def _below_ephemeral_range() -> range:
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    return range(max(1024, low - 12000), low)


def free_port() -> int:
    """A loopback TCP port nothing uses now and no connection will take as its source port."""
    candidates = list(_below_ephemeral_range())
    random.shuffle(candidates)  # test runs side by side start in different places
    with _handed_out_lock:
        for port in candidates:
            if port in _handed_out:
                continue
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                try:
                    probe.bind(("127.0.0.1", port))
                except OSError:
                    continue
            _handed_out.add(port)
            return port
    raise RuntimeError("no free port below the ephemeral range")


def _ensure_service_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(SERVICE_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "postgres"],
            check=True,
        )
        return pwd.getpwnam(SERVICE_USER)


class ThrowawayCluster:
    """One PostgreSQL server and database in a temp dir; a context manager.

    >>> with ThrowawayCluster() as pg:
    ...     os.environ["ADMINPANEL_DATABASE_URL"] = pg.url
    """

    def __init__(
        self,
        *,
        dbname: str = "adminpanel",
        durable: bool = False,
        settings: dict[str, str] | None = None,
    ):
        bin_dir = find_bin_dir()
        if bin_dir is None:
            raise RuntimeError(
                "PostgreSQL server binaries not found (looked in /usr/lib/postgresql/15/bin "
                "and PATH); `make test` installs Debian's postgresql"
            )
        self.bin_dir = bin_dir
        self.dbname = dbname
        self.port = 0
        self.dir: Path | None = None
        self.running = False
        # Tests want speed, not crash safety; benchmarks pass durable=True to measure what
        # production pays for each commit.
        self.settings = {
            "listen_addresses": "127.0.0.1",
            "max_connections": "200",
            "shared_buffers": "64MB",
            "log_min_messages": "warning",
            "log_connections": "off",
        }
        if not durable:
            self.settings.update(fsync="off", synchronous_commit="off", full_page_writes="off")
        self.settings.update(settings or {})

    # --- paths and URLs --------------------------------------------------------------------

    @property
    def data_dir(self) -> Path:
        assert self.dir is not None
        return self.dir / "data"

    @property
    def socket_dir(self) -> Path:
        assert self.dir is not None
        return self.dir / "socket"

    @property
    def log_file(self) -> Path:
        assert self.dir is not None
        return self.dir / "server.log"

    @property
    def url(self) -> str:
        """ADMINPANEL_DATABASE_URL for this cluster's database (TCP, no password)."""
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{self.dbname}"

    def url_for(self, dbname: str) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}"

    # --- running the binaries --------------------------------------------------------------

    def _run(self, program: str, *args: str, timeout: float = 120) -> str:
        argv = [str(self.bin_dir / program), *args]
        if os.geteuid() == 0:
            argv = ["runuser", "-u", SERVICE_USER, "--", *argv]
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=timeout, cwd=self.dir, check=False
        )
        if done.returncode != 0:
            log = self.log_file.read_text() if self.log_file.exists() else ""
            raise RuntimeError(
                f"{program} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}\n{log}"
            )
        return done.stdout

    def start(self) -> ThrowawayCluster:
        self.dir = Path(tempfile.mkdtemp(prefix="adminpanel-pg-"))
        if os.geteuid() == 0:
            user = _ensure_service_user()
            os.chown(self.dir, user.pw_uid, user.pw_gid)
        self.socket_dir.mkdir()
        if os.geteuid() == 0:
            os.chown(self.socket_dir, user.pw_uid, user.pw_gid)
        try:
            self._run(
                "initdb",
                "-D",
                str(self.data_dir),
                "-A",
                "trust",
                "-U",
                SUPERUSER,
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            )
            self._boot()
            self.createdb(self.dbname)
        except BaseException:
            self.stop()
            raise
        return self

    def _boot(self) -> None:
        """Start the server on a free port; retry when another process took the port first."""
        for attempt in range(5):
            self.port = free_port()
            options = [
                f"-p {self.port}",
                f"-k {self.socket_dir}",
                *(f"-c {name}={value}" for name, value in self.settings.items()),
            ]
            try:
                self._run(
                    "pg_ctl",
                    "-D",
                    str(self.data_dir),
                    "-l",
                    str(self.log_file),
                    "-o",
                    " ".join(options),
                    "-w",
                    "-t",
                    "60",
                    "start",
                )
            except RuntimeError:
                if attempt == 4:
                    raise
                continue
            self.running = True
            return

    def createdb(self, name: str) -> str:
        """Create another database in this cluster; returns its URL."""
        self._run(
            "createdb", "-h", str(self.socket_dir), "-p", str(self.port), "-U", SUPERUSER, name
        )
        return self.url_for(name)

    def psql(self, sql: str, dbname: str | None = None) -> str:
        """Run SQL through psql on the socket; returns unaligned, tuples-only output."""
        return self._run(
            "psql",
            "-h",
            str(self.socket_dir),
            "-p",
            str(self.port),
            "-U",
            SUPERUSER,
            "-d",
            dbname or self.dbname,
            "-X",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            sql,
        ).strip()

    def stop(self) -> None:
        """Stop the server (fast shutdown) and remove the temp dir. Safe to call twice."""
        if self.dir is None:
            return
        if self.running:
            try:
                self._run("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "stop")
            except (RuntimeError, subprocess.TimeoutExpired):
                self._run("pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "-w", "stop")
            self.running = False
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None

    def __enter__(self) -> ThrowawayCluster:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
