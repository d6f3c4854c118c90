"""SPEC §13: the README's nginx site in front of the panel, and its systemd unit."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import stat
import subprocess
import time
from pathlib import Path

import pytest
import requests

from testbed.cluster import ADMIN_PASSWORD, REPO, adminpanel_command
from testbed.postgres import free_port
from tests.certificates import self_signed
from tests.ops.panels import Panel, start_panel

NGINX = "/usr/sbin/nginx"
SCREENSHOTS = REPO / "tests" / "e2e" / "screenshots"
# nginx reaches the panel over its Unix socket, Chromium reaches nginx from 127.0.0.1: the panel
# must log the browser's address, which only the trusted proxy's X-Forwarded-For tells it.
README_SOCKET = "/run/adminpanel/panel.sock"


def readme_block(language: str) -> str:
    """The README's one code block in `language` (```nginx, ```ini)."""
    (block,) = re.findall(rf"```{language}\n(.*?)```", (REPO / "README.md").read_text(), re.S)
    return block


def nginx_site(socket_path: Path, https_port: int, http_port: int, cert: Path, key: Path) -> str:
    """The README's site, on loopback ports with the test's certificate and socket."""
    site = readme_block("nginx")
    replacements = {
        f"server unix:{README_SOCKET};": f"server unix:{socket_path};",
        "listen 443 ssl;": f"listen 127.0.0.1:{https_port} ssl;",
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "/etc/letsencrypt/live/panel.example.com/fullchain.pem": str(cert),
        "/etc/letsencrypt/live/panel.example.com/privkey.pem": str(key),
    }
    for old, new in replacements.items():
        assert site.count(old) == 1, old
        site = site.replace(old, new)
    return site


@pytest.fixture(scope="module")
def proxied(panel_root: Path, tmp_path_factory):
    """The panel behind nginx; yields (panel, https URL)."""
    if not os.access(NGINX, os.X_OK):
        pytest.skip("no nginx (make system-packages installs nginx-light)")
    prefix = tmp_path_factory.mktemp("nginx")
    socket_path = prefix / "panel.sock"
    panel = start_panel(
        panel_root,
        workers=1,
        options=["--unix-socket", str(socket_path)],
        ADMINPANEL_TRUSTED_PROXIES="unix",  # the README's: the socket only, not loopback
        ADMINPANEL_LOG_FORMAT="json",
    )
    panel.socket_path = socket_path
    cert, key = self_signed(prefix)
    https_port, http_port = free_port(), free_port()
    (prefix / "site.conf").write_text(nginx_site(socket_path, https_port, http_port, cert, key))
    temp = {name: prefix / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    (prefix / "nginx.conf").write_text(
        f"daemon off;\nuser root;\nworker_processes 1;\npid {prefix}/nginx.pid;\n"
        f"error_log {prefix}/error.log;\nevents {{}}\nhttp {{\n"
        f"    access_log {prefix}/access.log;\n"
        + "".join(f"    {n}_temp_path {p};\n" for n, p in temp.items()).replace(
            "body_temp", "client_body_temp"
        )
        + f"    include {prefix}/site.conf;\n}}\n"
    )
    nginx = subprocess.Popen(
        [
            NGINX,
            "-p",
            str(prefix),
            "-c",
            str(prefix / "nginx.conf"),
            "-e",
            str(prefix / "error.log"),
        ]
    )
    url = f"https://127.0.0.1:{https_port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(url, verify=False, timeout=2)  # noqa: S501 - the test's own cert
                break
            except requests.ConnectionError:
                assert nginx.poll() is None, (prefix / "error.log").read_text()
                assert time.monotonic() < deadline, "nginx did not answer"
                time.sleep(0.2)
        yield panel, url, f"http://127.0.0.1:{http_port}"
    finally:
        nginx.terminate()
        nginx.wait(timeout=20)
        panel.stop()


def log_lines(panel: Panel) -> list[dict]:
    return [json.loads(x) for x in panel.log_path.read_text().splitlines() if x.startswith("{")]


def test_a_login_through_nginx_in_chromium_logs_the_browsers_address(proxied, browser):
    panel, url, _ = proxied
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(ignore_https_errors=True)
    page = context.new_page()
    page.goto(f"{url}/login")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()
    page.screenshot(path=str(SCREENSHOTS / "reverse-proxy-home.png"))
    assert page.url == f"{url}/"
    home = context.request.get(f"{url}/")
    cookies = {c["name"]: c for c in context.cookies()}
    context.close()
    assert home.headers["strict-transport-security"] == "max-age=31536000"
    assert cookies["__Host-adminpanel_session"]["secure"] and cookies["__Host-csrftoken"]["secure"]
    time.sleep(0.5)  # the worker writes its line after answering
    lines = log_lines(panel)
    (login,) = [x for x in lines if x.get("type") == "event" and x["event"] == "web_login"]
    assert login["ip"] == "127.0.0.1"  # the browser, not nginx's socket (0.0.0.0)
    posts = [x for x in lines if x.get("type") == "request" and x["method"] == "POST"]
    assert posts and all(x["ip"] == "127.0.0.1" for x in posts)


def test_the_socket_is_for_the_panels_user_and_group_only(proxied):
    panel, _, _ = proxied
    mode = panel.socket_path.stat().st_mode
    assert stat.S_ISSOCK(mode) and stat.S_IMODE(mode) == 0o660


def test_a_loopback_tcp_clients_x_forwarded_for_is_not_believed(proxied):
    """Only the socket is trusted: a local process on the TCP port cannot pick its address."""
    panel, _, _ = proxied
    forged = {"X-Forwarded-For": "203.0.113.77", "X-Forwarded-Proto": "https"}
    answer = requests.get(f"{panel.url}/login", headers=forged, timeout=30)
    assert answer.status_code == 200
    assert "Strict-Transport-Security" not in answer.headers  # X-Forwarded-Proto ignored too
    time.sleep(0.5)  # the worker writes its line after answering
    (line,) = [
        x
        for x in log_lines(panel)
        if x.get("type") == "request" and x["request_id"] == answer.headers["X-Request-Id"]
    ]
    assert line["ip"] == "127.0.0.1"


def test_nginx_sends_plain_http_to_https(proxied):
    _, url, plain = proxied
    answer = requests.get(f"{plain}/login", allow_redirects=False, timeout=30)
    assert answer.status_code == 301
    assert answer.headers["Location"] == "https://127.0.0.1/login"


def test_nginx_does_not_publish_the_metrics(proxied):
    _, url, _ = proxied
    assert requests.get(f"{url}/metrics", verify=False, timeout=30).status_code == 404  # noqa: S501


def unit_for_this_machine(tmp_path: Path) -> Path:
    """The README's unit, with this checkout's `adminpanel` in place of /opt/adminpanel's."""
    unit = readme_block("ini")
    installed = "/opt/adminpanel/.venv/bin/adminpanel"
    assert unit.count(installed) == 1
    path = tmp_path / "adminpanel.service"
    path.write_text(unit.replace(installed, adminpanel_command()[0]))
    return path


def test_the_systemd_unit_passes_systemd_analyze_verify(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("no systemd-analyze on this machine")
    done = subprocess.run(
        [analyze, "verify", str(unit_for_this_machine(tmp_path))],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr


def test_the_systemd_units_exec_start_line_serves_the_panel(tmp_path):
    unit = unit_for_this_machine(tmp_path).read_text()
    (exec_start,) = re.findall(r"^ExecStart=(.*)$", unit, re.M)
    environment = dict(re.findall(r"^Environment=(\w+)=(.*)$", unit, re.M))
    assert environment["ADMINPANEL_DATA_DIR"] == "/var/lib/adminpanel"
    port = free_port()
    exec_start = exec_start.replace(README_SOCKET, str(tmp_path / "panel.sock"))
    argv = shlex.split(exec_start.replace("--port 8000", f"--port {port}"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADMINPANEL_")}
    env.update(environment, ADMINPANEL_DATA_DIR=str(tmp_path / "state"))  # StateDirectory
    with open(tmp_path / "serve.log", "wb") as log:
        process = subprocess.Popen(
            argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    panel = Panel(env, port, 2, tmp_path)
    panel.process = process
    panel.starts = 0
    try:
        panel.wait_ready()
        assert requests.get(f"{panel.url}/healthz", timeout=30).json() == {"status": "ok"}
    finally:
        panel.stop()
    lines = (tmp_path / "serve.log").read_text().splitlines()
    assert any(line.startswith('{"time"') for line in lines)  # ADMINPANEL_LOG_FORMAT=json
