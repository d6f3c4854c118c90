"""The README's Quickstart as an operator of Debian 13 runs it: `make run` on Debian 13's own
Python 3.13 (`python3-venv`), in the cached trixie root of testbed/trixie.py. Python 3.13 has no
`crypt` module; the panel once failed to start there, and nothing else here runs 3.13.

The repository's tracked files (their working-tree content) are copied into the root's /tmp;
`make run PORT=…` runs there under `chroot` (which shares the host's loopback network), so the
panel answers on the host's 127.0.0.1. Over HTTP the Admin logs in and sees Home, imports a
mailbox whose password is a `{SHA512-CRYPT}` hash (the code path that used `crypt`), and its
owner signs in with that password.

pip's files are kept beside the root (testbed.trixie.CACHE/trixie-pip), mounted into the root for
the run. pip's own HTTP cache is not enough: it keeps only what the index's answers allow, and a
proxy that drops those headers (this machine's egress does) leaves it empty. So after a run that
installed from the index, the wheels the lock names and the build backend are downloaded into
`wheels/` beside a stamp named after the lock; a later run with the same lock installs from there
alone (pip's find-links, no index), and a changed lock goes to the index again.
"""

import os
import shutil
import signal
import subprocess
import tempfile
import time
import tomllib
from hashlib import sha256
from pathlib import Path

import requests

from testbed.cluster import REPO, Browser
from testbed.postgres import free_port
from testbed.trixie import CACHE, SUITE, ensure_root

ADMIN_PASSWORD = "quickstart-admin-password-13"
OWNER = "moved@quickstart.example"
OWNER_PASSWORD = "Old-Service-Password-13"
# The first run creates the venv from the network; a cached one takes a fraction of this.
READY_TIMEOUT = 900
PIP_FILES = CACHE / f"{SUITE}-pip"  # beside the root, kept across runs and across new roots
HOST_CA = Path("/etc/ssl/certs/ca-certificates.crt")


def copy_tracked_files(destination: Path) -> None:
    """What a clone holds: the tracked files, as they are in the working tree."""
    listed = subprocess.run(
        ["git", "-C", str(REPO), "ls-files", "-z"],  # noqa: S607
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if not source.is_file():  # deleted in the working tree, not yet committed
            continue
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)


def lock_stamp(repo: Path) -> str:
    """The name of the stamp that says `wheels/` holds every file of this lock."""
    return sha256((repo / "requirements.lock").read_bytes()).hexdigest()[:16] + ".complete"


def chroot_environment(inside: Path, *, offline: bool) -> dict[str, str]:
    """A login shell's environment in the root (nothing of the host's test run: its data dir and
    database are not the Quickstart's), plus where pip finds its files and what it trusts."""
    env = {
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": "/root",
        "LANG": "C.UTF-8",
        "ADMINPANEL_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "PIP_CACHE_DIR": str(inside / "pip/http"),
        "PIP_FIND_LINKS": str(inside / "pip/wheels"),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    if offline:
        env["PIP_NO_INDEX"] = "1"
    # The host's index, proxy and timeout, as trixie.py builds from the host's apt mirror.
    for key in ["PIP_INDEX_URL", "PIP_DEFAULT_TIMEOUT", "http_proxy", "https_proxy", "no_proxy"]:
        if key in os.environ:
            env[key] = os.environ[key]
    return env


def stop(process: subprocess.Popen) -> None:
    """End `make run` and the gunicorn under it: their process group, nothing else."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def wait_for_login_page(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"make run exited ({process.returncode}):\n{tail(log)}")
        try:
            if requests.get(f"{url}/login", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{url}/login did not answer 200 in {READY_TIMEOUT} s:\n{tail(log)}")


def tail(log: Path) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-40:])


def keep_the_wheels(root: Path, inside: Path, env: dict[str, str]) -> None:
    """Download what the lock names and the build backend into `wheels/`, then the stamp."""
    repo = root / inside.relative_to("/") / "repo"
    backend = tomllib.loads((repo / "pyproject.toml").read_text())["build-system"]["requires"]
    pip = ["chroot", str(root), str(inside / "repo/.venv/bin/python"), "-m", "pip", "download"]
    pip += ["--quiet", "-d", str(inside / "pip/wheels")]
    lock = str(inside / "repo/requirements.lock")
    for what in [["--require-hashes", "-r", lock], ["--no-deps", *backend]]:
        subprocess.run([*pip, *what], env=env, check=True, timeout=600)  # noqa: S603
    (PIP_FILES / "wheels" / lock_stamp(repo)).touch()


def sha512_crypt(password: str) -> str:
    """`{SHA512-CRYPT}$6$…` as another mail service stored it, made by the host's OpenSSL (not by
    the code under test)."""
    made = subprocess.run(
        ["openssl", "passwd", "-6", "-stdin"],  # noqa: S607
        input=password,
        capture_output=True,
        text=True,
        check=True,
    )
    return "{SHA512-CRYPT}" + made.stdout.strip()


def check_the_panel(url: str) -> None:
    """The Admin logs in and sees Home; an imported SHA512-CRYPT password signs its owner in."""
    admin = Browser(url)
    assert admin.get("/login").status_code == 200
    assert admin.password_step("admin", ADMIN_PASSWORD).headers["Location"] == "/"
    home = admin.get("/")
    assert home.status_code == 200
    assert "<h1>Security overview</h1>" in home.text
    assert 'aria-current="page">Home</a>' in home.text

    api = requests.Session()
    login = api.post(
        f"{url}/api/v1/auth/login",
        json={"username": "admin", "password": ADMIN_PASSWORD},
        timeout=60,
    )
    assert login.status_code == 200, login.text
    api.headers["Authorization"] = f"Bearer {login.json()['token']}"
    domain = api.post(f"{url}/api/v1/domains", json={"name": "quickstart.example"}, timeout=60)
    assert domain.status_code == 201, domain.text
    csv = f'address,display_name,password,quota_mb\n{OWNER},,"{sha512_crypt(OWNER_PASSWORD)}",\n'
    imported = api.post(
        f"{url}/api/v1/users/import", json={"csv": csv, "dry_run": False}, timeout=60
    )
    assert imported.status_code == 201, imported.text
    assert imported.json()["lines"][0]["what_happens"] == "Added with its SHA512-CRYPT hash"

    owner = Browser(url)
    owner.get("/mailbox/login")
    refused = owner.post("/mailbox/login", {"username": OWNER, "password": "Not-The-Password-1"})
    assert refused.status_code == 200
    assert "Invalid email address or password." in refused.text
    owner.get("/mailbox/login")
    signed_in = owner.post("/mailbox/login", {"username": OWNER, "password": OWNER_PASSWORD})
    assert signed_in.status_code == 302, signed_in.text
    assert signed_in.headers["Location"] == "/mailbox/"
    assert OWNER in owner.get("/mailbox/").text


def test_the_quickstart_runs_on_debian_13s_python_3_13():
    root = ensure_root()  # the first run on a machine builds it: a minute and a half
    work = Path(tempfile.mkdtemp(prefix="adminpanel-quickstart-", dir=root / "tmp"))
    inside = Path("/") / work.relative_to(root)  # the same directory as the chroot sees it
    repo = work / "repo"
    cache_mount = work / "pip"
    mounted = False
    try:
        copy_tracked_files(repo)
        work.chmod(0o755)
        (PIP_FILES / "wheels").mkdir(parents=True, exist_ok=True)
        offline = (PIP_FILES / "wheels" / lock_stamp(repo)).is_file()
        env = chroot_environment(inside, offline=offline)
        if HOST_CA.is_file():
            # The host's trust: a machine whose HTTPS goes through an inspecting proxy has
            # that proxy's CA there, and Debian 13's own list does not.
            shutil.copy(HOST_CA, work / "ca-certificates.crt")
            env["PIP_CERT"] = str(inside / "ca-certificates.crt")
        cache_mount.mkdir()
        subprocess.run(["mount", "--bind", str(PIP_FILES), str(cache_mount)], check=True)  # noqa: S603, S607
        mounted = True

        port = free_port()
        url = f"http://127.0.0.1:{port}"
        log = work / "make-run.log"
        with log.open("wb") as output:
            quickstart = f"cd {inside / 'repo'} && exec make run PORT={port}"
            server = subprocess.Popen(  # noqa: S603 - fixed programs, our own paths
                ["chroot", str(root), "/bin/sh", "-c", quickstart],
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: the stop takes gunicorn too
            )
        try:
            wait_for_login_page(url, server, log)
            check_the_panel(url)
        finally:
            stop(server)

        # The venv's interpreter is the one `make run` served with.
        python = str(inside / "repo/.venv/bin/python")
        version = subprocess.run(  # noqa: S603 - fixed programs, our own paths
            ["chroot", str(root), python, "-c", "import sys; print(*sys.version_info[:2])"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        assert version.stdout.split() == ["3", "13"], version.stdout
        if not offline:
            keep_the_wheels(root, inside, env)
    finally:
        if mounted:
            subprocess.run(["umount", str(cache_mount)], check=True)  # noqa: S603, S607
        # Never delete through a mount still in place: that would empty the cache.
        if not os.path.ismount(cache_mount):
            shutil.rmtree(work)
