"""README "On a Debian mail server", its shell block run as it stands, twice, on this machine's
own Postfix and Dovecot packages (issue 21): an existing vmail user, an operator's own Postfix
restriction, no systemd. Only where the files go is moved into a sandbox (copies of /etc/postfix
and /etc/dovecot, the mail root, /etc/adminpanel, the init script's pid and log files) and the
services' ports are free ones; the SQLite lines are run (the PostgreSQL lines differ by
`--role`, tested in tests/integration). The system's Postfix and Dovecot are never started:
step 6 is checked on the sandbox's files instead. Then step 8 (DKIM, its own block), with
OpenDKIM's settings checked by this machine's own `opendkim` instead of restarting it."""

import os
import re
import shutil
import socket
import subprocess
import tempfile
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

from adminpanel.mailserver.instance import program
from adminpanel.mailserver.lookup import netstring
from testbed.cluster import adminpanel_command
from testbed.postgres import free_port
from testbed.trixie import ensure_root
from tests.certificates import self_signed
from tests.mailserver.mail import wait_until

REPO = Path(__file__).resolve().parents[2]
OPERATORS_OWN = "check_sender_access inline:{ spammer@bad.test=REJECT }"

pytestmark = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="runs its own SQLite panel; once is enough"
)


def readme_block(section: str = "### On a Debian mail server") -> str:
    text = (REPO / "README.md").read_text()
    return re.search(r"```sh\n(.*?)```", text[text.index(section) :], re.S).group(1)


def dkim_as_run_here(root: Path) -> str:
    """Step 8, in the sandbox: its files and paths moved there, the service's init script's
    too once installed; OpenDKIM's settings checked by `opendkim -n` instead of restarting the
    system's OpenDKIM and Postfix."""
    script = "\n".join(
        line for line in readme_block("### DKIM, DNS records").splitlines()
        if not line.startswith("apt-get")
    ) + "\n"  # fmt: skip
    for system, moved in [
        ("/root/mailconf", root / "mailconf"),
        ("/etc/adminpanel", root / "etc/adminpanel"),
        ("/etc/opendkim/adminpanel", root / "etc/opendkim/adminpanel"),
        ("/etc/opendkim.conf", root / "etc/opendkim.conf"),
        ("/var/lib/adminpanel", root / "data"),
        ("/etc/init.d", root / "init.d"),
        ("/etc/systemd/system", root / "systemd"),
    ]:
        script = script.replace(system, str(moved))
    init_script = root / "init.d/adminpanel-dkim"
    relocate = (
        f"sed -i 's#/etc/adminpanel/#{root}/etc/adminpanel/#g; "
        f"s#/etc/opendkim/#{root}/etc/opendkim/#g; s#/run/#{root}/run/#g; "
        f"s#/var/log/#{root}/log/#g' {init_script}\n"
    )
    script = script.replace(f"  {init_script} restart\n", f"  {relocate}  {init_script} restart\n")
    script = script.replace("update-rc.d adminpanel-dkim defaults", "true")
    # Checked on a copy that names the sandbox's tables (the installed one names the system's).
    conf, copy = root / "etc/opendkim.conf", root / "etc/opendkim-sandbox.conf"
    check = (
        f"sed 's#/etc/opendkim/#{root}/etc/opendkim/#g' {conf} > {copy} && "
        f"{program('opendkim')} -n -x {copy}"
    )
    return script.replace("service opendkim restart && service postfix restart", check)


@pytest.fixture
def sandbox(tmp_path):
    """Copies of this machine's Postfix and Dovecot settings, as Debian's packages left them,
    with one restriction of the operator's own; a panel with a fresh SQLite database."""
    root = tmp_path / "root"
    shutil.copytree("/etc/postfix", root / "etc/postfix")
    shutil.copytree("/etc/dovecot", root / "etc/dovecot")
    subprocess.run(
        [program("postconf"), "-c", str(root / "etc/postfix"), "-e",
         f"smtpd_recipient_restrictions = {OPERATORS_OWN}"],
        check=True,
    )  # fmt: skip
    for name in ["run", "log", "init.d", "cron.d", "systemd", "bin", "data", "tls"]:
        (root / name).mkdir()
    self_signed(root / "tls")  # step 2's certificate
    root.chmod(0o755)
    tmp_path.chmod(0o755)
    # `adminpanel` as installed (this checkout's), with the panel's environment.
    (root / "bin/adminpanel").write_text(f'#!/bin/sh\nexec {" ".join(adminpanel_command())} "$@"\n')
    (root / "bin/adminpanel").chmod(0o755)
    # The panel has run before (`adminpanel serve` migrates its database).
    assert run_readme(root, "adminpanel manage migrate -v 0").returncode == 0
    yield root
    for name in ["adminpanel-mailserver", "adminpanel-dkim"]:
        init_script = root / "init.d" / name
        if init_script.exists():  # the services this test started
            subprocess.run([str(init_script), "stop"], timeout=60, check=False)


def as_run_here(block: str, root: Path, ports: dict[str, int]) -> str:
    """The block with the SQLite lines and the sandbox's paths; the init script's own paths
    moved too, right after step 5 installs it."""
    lines = [
        line
        for line in block.splitlines()
        if not line.startswith("apt-get") and not line.rstrip().endswith("# PostgreSQL")
    ]
    script = "\n".join(lines) + "\n"
    listen = " ".join(f"--{name} 127.0.0.1:{port}" for name, port in ports.items())
    script = script.replace(
        "adminpanel mailserver-config --out /root/mailconf",
        f"adminpanel mailserver-config {listen} --out /root/mailconf",
    )
    for system, moved in [
        ("/root/mailconf", root / "mailconf"),
        ("/etc/postfix", root / "etc/postfix"),
        ("/etc/dovecot", root / "etc/dovecot"),
        ("/etc/adminpanel", root / "etc/adminpanel"),
        ("/etc/cron.d", root / "cron.d"),
        ("/etc/init.d", root / "init.d"),
        ("/etc/systemd/system", root / "systemd"),
        ("/var/vmail", root / "vmail"),
        ("/etc/letsencrypt/live/mail.example.com/fullchain.pem", root / "tls/cert.pem"),
        ("/etc/letsencrypt/live/mail.example.com/privkey.pem", root / "tls/key.pem"),
    ]:
        script = script.replace(system, str(moved))
    init_script = root / "init.d/adminpanel-mailserver"
    relocate = (
        f"sed -i 's#/etc/adminpanel/#{root}/etc/adminpanel/#g; s#/run/#{root}/run/#g; "
        f"s#/var/log/#{root}/log/#g' {init_script}\n"
    )
    script = script.replace(f"  {init_script} restart\n", f"  {relocate}  {init_script} restart\n")
    # Never the system's daemons or boot links: step 6 is checked by the test itself.
    script = script.replace("update-rc.d adminpanel-mailserver defaults", "true")
    return script[: script.index("# 6.")]


def run_readme(root: Path, script: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADMINPANEL_")}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.update(
        ADMINPANEL_DATA_DIR=str(root / "data"),
        PATH=f"{root / 'bin'}:{env.get('PATH', '')}:/usr/sbin:/sbin",
    )
    return subprocess.run(
        ["/bin/sh", "-c", script], env=env, capture_output=True, text=True, timeout=300
    )


def postconf(root: Path, name: str) -> str:
    done = subprocess.run(
        [program("postconf"), "-c", str(root / "etc/postfix"), "-n", "-h", name],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def lookup_answers(port: int) -> bytes:
    """The lookup server's answer, b"" while it is not listening yet."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
            conn.sendall(netstring("domains example.com"))
            return conn.recv(100)
    except OSError:
        return b""


def milter_answers(port: int) -> bool:
    """The From: check answers a milter's option negotiation (SMFIC_OPTNEG) with its own."""
    negotiate = b"O" + (6).to_bytes(4, "big") + (0x1FF).to_bytes(4, "big") + bytes(4)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
            conn.sendall(len(negotiate).to_bytes(4, "big") + negotiate)
            return conn.recv(5)[4:5] == b"O"
    except OSError:
        return False


def policy_answers(port: int) -> bool:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/?command=allow", data=b'{"login": "a@b.example"}'
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - loopback
            return answer.status == 200
    except OSError:
        return False


def test_the_debian_steps_run_twice_keep_the_operators_restrictions_and_start_the_services(
    sandbox,
):
    """Steps 1 to 5, then step 8 (DKIM), twice."""
    made = run_readme(
        sandbox,
        'adminpanel manage shell -c "from adminpanel.accounts.models import Account; '
        "from adminpanel.mail import services; "
        "services.create_domain(Account.objects.create_user('admin', 'Admin-Quartz-Lantern-4817', "
        "is_owner=True), name='signed.example')\"",
    )
    assert made.returncode == 0, made.stderr
    ports = {
        "lookup-listen": free_port(),
        "policy-listen": free_port(),
        "postfix-policy-listen": free_port(),
        "sender-check-listen": free_port(),
    }
    script = as_run_here(readme_block(), sandbox, ports) + dkim_as_run_here(sandbox)
    done = run_readme(sandbox, script)
    assert done.returncode == 0, ("first", done.stdout, done.stderr)
    # Between the runs the operator appends a DKIM signer to the submission milters, after an
    # address the panel no longer uses there (the From: check's old port, now the end-of-data
    # policy's): the second run keeps the signer and drops the stale address.
    signer = "inet:127.0.0.1:8893"
    subprocess.run(
        [program("postconf"), "-c", str(sandbox / "etc/postfix"), "-e",
         f"adminpanel_submission_milters = inet:127.0.0.1:{ports['postfix-policy-listen']}, "
         f"{signer}"],
        check=True,
    )  # fmt: skip
    done = run_readme(sandbox, script)
    assert done.returncode == 0, ("again", done.stdout, done.stderr)

    # Postfix: the panel's restrictions once, then the operator's own, still there.
    recipient = postconf(sandbox, "smtpd_recipient_restrictions")
    assert recipient.endswith(OPERATORS_OWN), recipient
    assert recipient.count("reject_unlisted_recipient") == 1
    assert recipient.count(f"127.0.0.1:{ports['lookup-listen']}:inactive") == 1
    assert "reject_unauth_destination" in postconf(sandbox, "smtpd_relay_restrictions")
    assert "defer_unauth_destination" not in postconf(sandbox, "smtpd_relay_restrictions")
    end_of_data = postconf(sandbox, "smtpd_end_of_data_restrictions")
    assert end_of_data.count(f"inet:127.0.0.1:{ports['postfix-policy-listen']}") == 1
    # Submission: its services once, their milters the From: check on its own port, TLS.
    milters = postconf(sandbox, "adminpanel_submission_milters")
    assert milters == (
        f"inet:127.0.0.1:{ports['sender-check-listen']}, inet:127.0.0.1:8891, {signer}"
    ), milters
    assert postconf(sandbox, "smtpd_tls_cert_file") == str(sandbox / "tls/cert.pem")
    master_cf = (sandbox / "etc/postfix/master.cf").read_text()
    for service in ["submission", "submissions"]:
        assert len(re.findall(rf"^{service}\s+inet\s", master_cf, re.M)) == 1, master_cf
    check = subprocess.run(
        [program("postconf"), "-c", str(sandbox / "etc/postfix"), "-n"],
        capture_output=True,
        text=True,
    )
    assert (check.returncode, check.stderr) == (0, "")

    # Dovecot: the settings included once, read without a warning, with this host's vmail uid.
    local_conf = (sandbox / "etc/dovecot/local.conf").read_text()
    assert local_conf.count("adminpanel/adminpanel.conf") == 1
    dovecot_conf = sandbox / "etc/dovecot/dovecot.conf"
    doveconf = subprocess.run(
        [program("doveconf"), "-c", str(dovecot_conf), "-n"], capture_output=True, text=True
    )
    assert (doveconf.returncode, doveconf.stderr) == (0, ""), doveconf.stderr + "".join(
        p.read_text() for p in (sandbox / "log").iterdir()
    )
    # Every file the settings name is installed (where step 4 puts them, here in the sandbox).
    named = set(re.findall(r"/etc/dovecot/adminpanel/([\w.-]+)", doveconf.stdout))
    installed = {path.name for path in (sandbox / "etc/dovecot/adminpanel").iterdir()}
    assert named and named <= installed, named - installed
    uid = os.stat(sandbox / "vmail").st_uid
    assert f"first_valid_uid = {uid}" in doveconf.stdout
    assert f"auth_policy_server_url = http://127.0.0.1:{ports['policy-listen']}/" in (
        doveconf.stdout
    )

    # The services run, on the ports the files name, with their logs where the README says.
    assert wait_until(lambda: policy_answers(ports["policy-listen"]))
    assert wait_until(lambda: lookup_answers(ports["lookup-listen"]).startswith(b"9:NOTFOUND"))
    assert wait_until(lambda: milter_answers(ports["sender-check-listen"]))
    assert sorted(path.name for path in (sandbox / "log").iterdir()) == [
        "adminpanel-dkim.log",
        "adminpanel-end-sessions.log",
        "adminpanel-mailserver-lookup.log",
        "adminpanel-mailserver-policy.log",
        "adminpanel-sender-check.log",
    ]

    # Step 8: the one-off sync wrote the domain's key where OpenDKIM's settings name it.
    tables = sandbox / "etc/opendkim/adminpanel"
    opendkim_conf = (sandbox / "etc/opendkim.conf").read_text()
    assert "KeyTable\t\tfile:/etc/opendkim/adminpanel/key.table" in opendkim_conf
    key_table = (tables / "key.table").read_text()
    selector = r"ap\d{8}"
    line = rf"signed\.example signed\.example:({selector}):{tables}/keys/signed\.example\.\1\.pem\n"
    assert re.fullmatch(line, key_table), key_table
    # The service (as root, with its own log) writes them itself, from what it reads:
    # restarted with a table gone, it writes that table again at once.
    (tables / "signing.table").unlink()
    restarted = subprocess.run(
        [str(sandbox / "init.d/adminpanel-dkim"), "restart"], capture_output=True, timeout=60
    )
    assert restarted.returncode == 0, restarted.stderr
    assert wait_until(lambda: (tables / "signing.table").exists())
    assert (tables / "signing.table").read_text() == "signed.example signed.example\n"
    log = sandbox / "log/adminpanel-dkim.log"
    assert wait_until(lambda: f"DKIM keys written to {tables}" in log.read_text()), log.read_text()
    unit = (sandbox / "mailconf/opendkim/adminpanel-dkim.service").read_text()
    assert "EnvironmentFile=/etc/adminpanel/mailserver.env\n" in unit
    assert "EnvironmentFile=/etc/adminpanel/dkim.env\n" in unit
    assert "After=opendkim.service" in unit


def readme_steps(block: str, *numbers: int) -> str:
    """The lines of the block's steps with these numbers (from "# N." to the next step)."""
    parts = re.split(r"^(?=# \d+\. )", block, flags=re.M)
    return "".join(
        part for part in parts if re.match(rf"# ({'|'.join(map(str, numbers))})\. ", part)
    )


def test_steps_2_and_4_on_debian_13_give_settings_its_dovecot_2_4_reads_without_a_warning():
    """Steps 2 and 4 as a Debian 13 host runs them: `dovecot` is Debian 13's (the trixie root
    of tests/mailserver/test_dovecot24.py), and in a mount namespace of their own a copy of its
    /etc/dovecot is /etc/dovecot, so the lines run as written (SQLite's) and the files land
    where the generated settings name them. Then that Dovecot's doveconf reads the result."""
    root = ensure_root()
    sandbox = Path(tempfile.mkdtemp(prefix="adminpanel-readme13-"))
    inside = root / sandbox.relative_to("/")  # the sandbox as the chroot sees it, same path
    try:
        shutil.copytree(root / "etc/dovecot", sandbox / "etc-dovecot", symlinks=True)
        for name in ["bin", "data", "tls"]:
            (sandbox / name).mkdir()
        self_signed(sandbox / "tls")
        sandbox.chmod(0o755)
        (sandbox / "bin/adminpanel").write_text(
            f'#!/bin/sh\nexec {" ".join(adminpanel_command())} "$@"\n'
        )
        # What `dovecot --version` says on Debian 13 (step 2 writes for it).
        (sandbox / "bin/dovecot").write_text(f'#!/bin/sh\nexec chroot {root} dovecot "$@"\n')
        for name in ["adminpanel", "dovecot"]:
            (sandbox / "bin" / name).chmod(0o755)
        assert run_readme(sandbox, "adminpanel manage migrate -v 0").returncode == 0
        steps = readme_steps(readme_block(), 2, 4)
        steps = "\n".join(
            line for line in steps.splitlines() if not line.rstrip().endswith("# PostgreSQL")
        )
        for system, moved in [
            ("/root/mailconf", sandbox / "mailconf"),
            ("/etc/letsencrypt/live/mail.example.com/fullchain.pem", sandbox / "tls/cert.pem"),
            ("/etc/letsencrypt/live/mail.example.com/privkey.pem", sandbox / "tls/key.pem"),
        ]:
            steps = steps.replace(system, str(moved))
        inside.mkdir()
        (sandbox / "steps.sh").write_text(
            "set -e\n"
            f"mount --bind {sandbox}/etc-dovecot /etc/dovecot\n"
            f"{steps}\n"
            f"mount --bind /etc/dovecot {root}/etc/dovecot\n"
            f"mount --bind {sandbox} {inside}\n"
            f"chroot {root} doveconf -n >{sandbox}/doveconf.out 2>{sandbox}/doveconf.err\n"
        )
        done = run_readme(sandbox, f"unshare --mount /bin/sh {sandbox}/steps.sh")
        assert done.returncode == 0, (done.stdout, done.stderr)
        assert "Dovecot 2.4 settings" in done.stdout, done.stdout

        said = (sandbox / "doveconf.out").read_text()
        assert (sandbox / "doveconf.err").read_text() == ""
        assert "passdb adminpanel_app_passwords {" in said
        assert "sql_query = SELECT address AS user, NULL AS password" in said
        assert f"ssl_server {{\n  cert_file = {sandbox}/tls/cert.pem" in said  # step 2's TLS
        # 2.4's doveconf shows what it included: each file step 4 installed was read.
        assert "sql_iterate_query = SELECT address AS user" in said  # sql.conf.ext
        assert "passdb adminpanel_mailbox_password {" in said  # mailbox-password.conf.ext
        assert "dict_map priv/quota/storage {" in said  # usage-dict.conf.ext
        assert "dict_map priv/sieve/name/adminpanel {" in said  # sieve-dict.conf.ext
        local_conf = (sandbox / "etc-dovecot/local.conf").read_text()
        assert local_conf.count("adminpanel/adminpanel.conf") == 1
    finally:
        if inside.exists():
            inside.rmdir()  # the mount point, empty again outside the namespace
        shutil.rmtree(sandbox)
