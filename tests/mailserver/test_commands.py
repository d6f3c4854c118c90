"""`adminpanel mailserver-config` and `adminpanel mailserver-run` as an operator runs them."""

import argparse
import os
import shlex
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from django.db import connection

from adminpanel.mailserver.commands import mailserver_config
from adminpanel.mailserver.instance import program
from testbed.cluster import adminpanel_command
from testbed.postgres import free_port
from tests.certificates import self_signed

README = Path(__file__).resolve().parents[2] / "README.md"


def test_mailserver_config_writes_the_files_for_the_configured_database(db, tmp_path):
    assert mailserver_config(argparse.Namespace(out=str(tmp_path), role=None)) == 0
    main_cf = (tmp_path / "postfix" / "main.cf").read_text()
    dovecot = (tmp_path / "dovecot" / "adminpanel.conf").read_text()
    sql = tmp_path / "dovecot" / "sql.conf.ext"
    assert "virtual_mailbox_domains = " in main_cf and "virtual_transport = lmtp:" in main_cf
    assert "auth_cache_size = 0" in dovecot and "quota_clone" in dovecot
    assert "mailserver_mailboxes" in sql.read_text()
    assert sql.stat().st_mode & 0o777 == 0o600
    if connection.vendor == "postgresql":
        assert "proxy:pgsql:/etc/postfix/adminpanel/mailboxes.cf" in main_cf
        assert (tmp_path / "postfix" / "mailboxes.cf").stat().st_mode & 0o777 == 0o600
    else:
        assert "socketmap:inet:127.0.0.1:7520:mailboxes" in main_cf
        assert "driver = sqlite" in sql.read_text()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL URL")
def test_mailserver_config_refuses_a_unix_socket_database_in_one_line(db, tmp_path, capsys):
    host = connection.settings_dict["HOST"]
    connection.settings_dict["HOST"] = "/var/run/postgresql"
    try:
        answer = mailserver_config(argparse.Namespace(out=str(tmp_path), role=None))
    finally:
        connection.settings_dict["HOST"] = host
    assert answer == 2
    said = capsys.readouterr().err.strip()
    assert len(said.splitlines()) == 1 and "Unix socket" in said
    assert not (tmp_path / "postfix").exists()


def answers(port: int, banner: bytes) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
            return conn.recv(100).startswith(banner)
    except OSError:
        return False


@pytest.fixture
def trial_environment():
    """A fresh data dir with its own SQLite database, as for a newcomer's first try."""
    with tempfile.TemporaryDirectory(prefix="adminpanel-trial-") as data_dir:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ADMINPANEL_")}
        env.pop("DJANGO_SETTINGS_MODULE", None)
        yield {**env, "ADMINPANEL_DATA_DIR": data_dir, "PYTHONUNBUFFERED": "1"}


def mailserver_run(environment: dict, smtp_port: int, imap_port: int) -> subprocess.Popen:
    return subprocess.Popen(
        [
            *adminpanel_command(),
            "mailserver-run",
            "--smtp-port",
            str(smtp_port),
            "--imap-port",
            str(imap_port),
            # Not the default 5870: the other database's lane runs this test at the same time.
            "--submission-port",
            str(free_port()),
        ],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def assert_stopped(directory: str, smtp_port: int, imap_port: int) -> None:
    """Both servers stopped, no process of the private instance left, its directory gone."""
    assert not answers(smtp_port, b"220 ") and not answers(imap_port, b"* OK")
    running = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert directory not in running
    assert not os.path.exists(directory)


def test_mailserver_run_serves_smtp_and_imap_until_sigterm_then_stops_both(trial_environment):
    smtp_port, imap_port = free_port(), free_port()
    process = mailserver_run(trial_environment, smtp_port, imap_port)
    try:
        said = []
        for line in process.stdout:
            said.append(line)
            if "Ctrl-C stops both" in line:
                break
        assert answers(smtp_port, b"220 "), "".join(said)
        assert answers(imap_port, b"* OK"), "".join(said)
        directory = said[0].split(" in ", 1)[1].strip()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=120) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert_stopped(directory, smtp_port, imap_port)


def test_mailserver_run_stopped_while_it_starts_stops_what_it_started(trial_environment):
    """A SIGTERM while the servers start (a supervisor giving up, Ctrl-C): the command
    finishes starting, says so, stops everything and exits 0; nothing is left running."""
    smtp_port, imap_port = free_port(), free_port()
    process = mailserver_run(trial_environment, smtp_port, imap_port)
    try:
        deadline = time.monotonic() + 120
        while not answers(imap_port, b"* OK"):  # Dovecot is up; Postfix starts after it
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        process.send_signal(signal.SIGTERM)
        said, _ = process.communicate(timeout=120)
        assert process.returncode == 0, said
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert "Stopping the mail servers" in said
    directory = said.split(" in ", 1)[1].splitlines()[0].strip()
    assert_stopped(directory, smtp_port, imap_port)


def test_the_files_fit_debians_stock_postfix_and_dovecot_as_the_readme_installs_them(db, tmp_path):
    """The README's steps, on copies of /etc/postfix and /etc/dovecot (never the real ones)."""
    assert mailserver_config(argparse.Namespace(out=str(tmp_path / "out"), role=None)) == 0
    postfix, dovecot = tmp_path / "postfix", tmp_path / "dovecot"
    shutil.copytree("/etc/postfix", postfix)
    shutil.copytree("/etc/dovecot", dovecot)
    # The lookup files go where main.cf names them (the copy's adminpanel/ here).
    (postfix / "adminpanel").mkdir()
    for path in (tmp_path / "out" / "postfix").glob("*.cf"):
        if path.name != "main.cf":
            shutil.copy(path, postfix / "adminpanel" / path.name)
    for line in (tmp_path / "out" / "postfix" / "main.cf").read_text().splitlines():
        if not line.startswith("#"):
            line = line.replace("/etc/postfix/adminpanel/", f"{postfix}/adminpanel/")
            subprocess.run([program("postconf"), "-c", str(postfix), "-e", line], check=True)
    for line in (tmp_path / "out" / "postfix" / "master.cf").read_text().splitlines():
        if not line.startswith("#"):
            subprocess.run([program("postconf"), "-c", str(postfix), "-M", "-e", line], check=True)
    conf_d = dovecot / "conf.d" / "10-auth.conf"
    conf_d.write_text(conf_d.read_text().replace("!include auth-system", "#!include auth-system"))
    with (dovecot / "local.conf").open("a") as local:
        local.write(f"!include {tmp_path / 'out' / 'dovecot' / 'adminpanel.conf'}\n")

    postconf = subprocess.run(
        [program("postconf"), "-c", str(postfix), "-n"], capture_output=True, text=True
    )
    doveconf = subprocess.run(
        [program("doveconf"), "-c", str(dovecot / "dovecot.conf"), "-n"],
        capture_output=True,
        text=True,
    )
    assert (postconf.returncode, postconf.stderr) == (0, "")
    assert "virtual_transport = lmtp:unix:private/dovecot-lmtp" in postconf.stdout
    assert (doveconf.returncode, doveconf.stderr) == (0, "")
    assert "passdb {\n  args = /etc/dovecot/adminpanel/app-passwords.conf.ext\n  driver = sql" in (
        doveconf.stdout
    )


def test_mailserver_run_on_a_busy_port_says_so_in_one_line_and_starts_nothing(trial_environment):
    imap_port = free_port()
    with socket.create_server(("127.0.0.1", free_port())) as taken:
        busy = taken.getsockname()[1]
        done = subprocess.run(
            [
                *adminpanel_command(),
                "mailserver-run",
                "--smtp-port",
                str(busy),
                "--imap-port",
                str(imap_port),
                "--submission-port",
                str(free_port()),
            ],
            env=trial_environment,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 1
    assert done.stderr.strip() == (
        f"Cannot listen on 127.0.0.1:{busy} for SMTP: the port is in use by another program. "
        "Choose another port with --smtp-port (make mailserver SMTP_PORT=…)."
    )
    assert not answers(imap_port, b"* OK")  # Dovecot was not started


def readme_line(containing: str) -> str:
    """The one line of the README's "On a Debian mail server" steps that holds `containing`."""
    (line,) = [line for line in README.read_text().splitlines() if containing in line]
    return line


def run_readme_step_3(out: Path, postfix: Path, environment: dict) -> None:
    """Step 3's main.cf and master.cf line (`adminpanel mailserver-postconf`), literally, on a
    copy of /etc/postfix."""
    line = readme_line("adminpanel mailserver-postconf /root/mailconf/postfix/main.cf")
    assert "/root/mailconf/postfix/master.cf" in line
    line = line.replace("/root/mailconf", str(out)).replace("/etc/postfix", str(postfix))
    line = line.replace("adminpanel ", shlex.join(adminpanel_command()) + " ", 1)
    done = subprocess.run(["bash", "-c", line], env=environment, capture_output=True, text=True)
    assert (done.returncode, done.stderr) == (0, ""), line


def test_the_readmes_submission_and_tls_steps_fit_debians_postfix_and_dovecot(
    db, tmp_path, trial_environment
):
    """Step 2 with a certificate, step 3 (main.cf and master.cf) and step 4 as the README
    writes them, on copies of this machine's /etc/postfix and /etc/dovecot."""
    certfile, keyfile = self_signed(tmp_path)
    out = tmp_path / "mailconf"
    args = argparse.Namespace(out=str(out), role=None, certfile=str(certfile), keyfile=str(keyfile))
    assert mailserver_config(args) == 0
    postfix, dovecot = tmp_path / "postfix", tmp_path / "dovecot"
    shutil.copytree("/etc/postfix", postfix)
    shutil.copytree("/etc/dovecot", dovecot)
    # The lookup files go where main.cf names them: the copy's adminpanel/ here.
    (postfix / "adminpanel").mkdir()
    for path in (out / "postfix").glob("*.cf"):
        if path.name not in {"main.cf", "master.cf"}:
            shutil.copy(path, postfix / "adminpanel" / path.name)
    main_cf = out / "postfix" / "main.cf"
    main_cf.write_text(main_cf.read_text().replace("/etc/postfix/", f"{postfix}/"))
    run_readme_step_3(out, postfix, trial_environment)
    master_cf = (postfix / "master.cf").read_text()
    main_cf_set = (postfix / "main.cf").read_text()
    run_readme_step_3(out, postfix, trial_environment)  # again, as after an upgrade
    assert (postfix / "master.cf").read_text() == master_cf
    assert (postfix / "main.cf").read_text() == main_cf_set

    def postconf(*args: str) -> str:
        done = subprocess.run(
            [program("postconf"), "-c", str(postfix), *args], capture_output=True, text=True
        )
        assert (done.returncode, done.stderr) == (0, ""), args  # no warning either
        return done.stdout

    postconf("-n")
    services = postconf("-M", "submission/inet", "submissions/inet").splitlines()
    assert [line.split()[:5] for line in services] == [
        ["submission", "inet", "n", "-", "y"],
        ["submissions", "inet", "n", "-", "y"],
    ]
    options = postconf("-P", "submission/inet", "submissions/inet")
    for service, wrapper in [("submission", "no"), ("submissions", "yes")]:
        for setting in [
            "smtpd_tls_security_level = encrypt",
            "smtpd_tls_auth_only = yes",
            "smtpd_sasl_auth_enable = yes",
            "smtpd_client_restrictions = permit_sasl_authenticated,reject",
            "smtpd_milters = $adminpanel_submission_milters",
            f"smtpd_tls_wrappermode = {wrapper}",
        ]:
            assert f"{service}/inet/{setting}" in options, options
    assert postconf("-h", "smtpd_sasl_type", "smtpd_sasl_path", "smtpd_tls_cert_file").split() == [
        "dovecot",
        "private/auth",
        str(certfile),
    ]
    assert postconf("-h", "smtpd_sasl_auth_enable").strip() == "no"  # not on port 25
    assert postconf("-h", "adminpanel_submission_milters").strip() == (
        "inet:127.0.0.1:7523, inet:127.0.0.1:8891"
    )

    with (dovecot / "local.conf").open("a") as local:
        local.write(f"!include {out / 'dovecot' / 'adminpanel.conf'}\n")
    doveconf = subprocess.run(
        [program("doveconf"), "-c", str(dovecot / "dovecot.conf"), "-n"],
        capture_output=True,
        text=True,
    )
    assert (doveconf.returncode, doveconf.stderr) == (0, "")
    assert (
        "  unix_listener /var/spool/postfix/private/auth {\n    group = postfix\n"
        "    mode = 0600\n    user = postfix\n  }" in doveconf.stdout
    )
    assert f"ssl_cert = <{certfile}" in doveconf.stdout


@pytest.mark.parametrize(
    ("options", "said"),
    [
        (["--certfile", "/etc/ssl/mail.pem"], "--certfile and --keyfile go together"),
        (["--certfile", "cert.pem", "--keyfile", "key.pem"], "absolute path"),
    ],
)
def test_mailserver_config_wants_both_certificate_files_as_absolute_paths(
    db, tmp_path, capsys, options, said
):
    names = dict(zip(options[0::2], options[1::2], strict=True))
    args = argparse.Namespace(
        out=str(tmp_path),
        role=None,
        certfile=names.get("--certfile"),
        keyfile=names.get("--keyfile"),
    )
    assert mailserver_config(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and said in err
    assert not (tmp_path / "postfix").exists()


def test_mailserver_run_serves_submission_with_the_given_certificate(trial_environment, tmp_path):
    certfile, keyfile = self_signed(tmp_path)
    smtp_port, imap_port, submission_port = free_port(), free_port(), free_port()
    process = subprocess.Popen(
        [
            *adminpanel_command(),
            "mailserver-run",
            "--smtp-port", str(smtp_port),
            "--imap-port", str(imap_port),
            "--submission-port", str(submission_port),
            "--certfile", str(certfile),
            "--keyfile", str(keyfile),
        ],
        env=trial_environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    try:
        said = []
        for line in process.stdout:
            said.append(line)
            if "Ctrl-C stops both" in line:
                break
        assert f"certificate: {certfile}" in "".join(said), "".join(said)
        with smtplib.SMTP("127.0.0.1", submission_port, timeout=30) as smtp:
            smtp.starttls(context=ssl.create_default_context(cafile=str(certfile)))
            smtp.ehlo()
            assert smtp.has_extn("auth")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=120) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_mailserver_run_refuses_a_certificate_it_cannot_read_in_one_line(trial_environment):
    done = subprocess.run(
        [*adminpanel_command(), "mailserver-run", "--certfile", "/nonexistent/cert.pem",
         "--keyfile", "/nonexistent/key.pem"],
        env=trial_environment, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip() == "--certfile: cannot read /nonexistent/cert.pem."


def _start_trial(environment: dict, *options: str) -> tuple[subprocess.Popen, list[str]]:
    """`adminpanel mailserver-run` with these options, read until it says it is ready."""
    process = subprocess.Popen(
        [*adminpanel_command(), "mailserver-run", *options],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    said = []
    for line in process.stdout:
        said.append(line)
        if "Ctrl-C stops both" in line:
            break
    return process, said


def test_mailserver_run_takes_the_postmaster_address(trial_environment):
    smtp_port, imap_port = free_port(), free_port()
    process, said = _start_trial(
        trial_environment,
        *("--smtp-port", str(smtp_port), "--imap-port", str(imap_port)),
        *("--submission-port", str(free_port())),  # not 5870: the other lane runs this too
        *("--postmaster", "Hostmaster@Outside.test"),
    )
    try:
        assert answers(smtp_port, b"220 "), "".join(said)
        # A domain without a postmaster of its own, added through the service as the panel does.
        subprocess.run(
            [*adminpanel_command(), "manage", "shell", "-c", (
                "from adminpanel.accounts.models import Account\n"
                "from adminpanel.mail import services\n"
                "owner = Account.objects.create_user('trial', 'Trial-Quartz-Lantern-4817',"
                " is_owner=True)\n"
                "services.create_domain(owner, name='trial.example')\n"
            )],
            env=trial_environment,
            check=True,
            timeout=120,
        )  # fmt: skip
        with smtplib.SMTP("127.0.0.1", smtp_port, timeout=30) as smtp:
            smtp.ehlo()
            smtp.mail("someone@outside.test")
            assert smtp.rcpt("postmaster@trial.example")[0] == 250
            assert smtp.rcpt("nobody@trial.example")[0] == 550
        directory = said[0].split(" in ", 1)[1].strip()
        main_cf = (Path(directory) / "postfix" / "main.cf").read_text()
        assert "hostmaster@outside.test" in main_cf + "".join(
            path.read_text() for path in (Path(directory) / "postfix").glob("postmaster.cf")
        )
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=120)


def test_mailserver_run_refuses_a_postmaster_that_is_not_one_address_in_one_line(
    trial_environment,
):
    done = subprocess.run(
        [*adminpanel_command(), "mailserver-run", "--postmaster", "nobody"],
        env=trial_environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "--postmaster" in done.stderr


def test_mailserver_postconf_without_its_file_says_so_in_one_line(trial_environment, tmp_path):
    done = subprocess.run(
        [*adminpanel_command(), "mailserver-postconf", str(tmp_path / "missing" / "main.cf"),
         "--config-dir", str(tmp_path)],
        env=trial_environment,
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"Cannot read {tmp_path / 'missing' / 'main.cf'}: No such file or directory."
    ]
