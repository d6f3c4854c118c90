"""SPEC §13 and §9: `adminpanel serve` over HTTPS, on a busy port, and what it leaves behind."""

import os
import socket
import subprocess
from pathlib import Path

import pytest
import requests

from testbed.cluster import ADMIN_PASSWORD, Browser, adminpanel_command
from testbed.postgres import free_port
from tests.certificates import self_signed
from tests.ops.panels import start_panel


@pytest.fixture(scope="module")
def https_panel(panel_root: Path, tmp_path_factory):
    """`serve --certfile --keyfile` with its HOME in a temp dir (to see what it writes there)."""
    home = tmp_path_factory.mktemp("home")
    cert, key = self_signed(tmp_path_factory.mktemp("tls"))
    panel = start_panel(
        panel_root,
        workers=1,
        options=["--certfile", str(cert), "--keyfile", str(key)],
        HOME=str(home),
    )
    panel.home, panel.certificate = home, cert
    yield panel
    panel.stop()


def secure_browser(panel) -> Browser:
    """A tab that trusts the test's own certificate (and no CA bundle from the environment)."""
    tab = Browser(panel.url)
    tab.http.trust_env = False
    tab.http.verify = str(panel.certificate)
    return tab


def test_serve_speaks_https_with_hsts_and_secure_cookies(https_panel):
    tab = secure_browser(https_panel)
    page = tab.get("/login")
    assert https_panel.url.startswith("https://")
    assert page.status_code == 200
    assert page.headers["Strict-Transport-Security"] == "max-age=31536000"
    answer = tab.password_step("admin", ADMIN_PASSWORD)
    assert answer.status_code == 302
    cookies = {c.name: c for c in tab.http.cookies}
    assert cookies["__Host-adminpanel_session"].secure
    assert cookies["__Host-csrftoken"].secure
    assert tab.logged_in()


def test_over_https_the_session_and_csrf_cookies_carry_the_host_prefix(https_panel):
    """`__Host-`: Secure, Path=/, no Domain; a browser refuses any other such cookie."""
    tab = secure_browser(https_panel)
    tab.get("/login")
    answer = tab.post("/login", {"username": "admin", "password": ADMIN_PASSWORD})
    assert answer.status_code == 302
    set_cookies = answer.raw.headers.getlist("Set-Cookie")
    session = [c for c in set_cookies if c.startswith("__Host-adminpanel_session=")]
    assert len(session) == 1 and "; Secure" in session[0] and "Path=/;" in session[0] + ";"
    assert "Domain" not in session[0]
    names = {c.name for c in tab.http.cookies}
    assert names >= {"__Host-adminpanel_session", "__Host-csrftoken"}
    assert not names & {"adminpanel_session", "csrftoken"}
    assert tab.logged_in()


def test_over_plain_http_the_cookies_keep_their_plain_names(panel):
    answer = requests.get(f"{panel.url}/login", timeout=30)
    assert "csrftoken" in answer.cookies and "__Host-csrftoken" not in answer.cookies


def test_plain_http_to_the_https_port_is_not_served(https_panel):
    with pytest.raises(requests.ConnectionError):
        requests.get(https_panel.url.replace("https://", "http://") + "/login", timeout=10)


def test_serve_writes_no_control_socket_into_the_home_directory(https_panel):
    assert not (https_panel.home / ".gunicorn").exists()


def test_no_hsts_over_plain_http(panel):
    assert "Strict-Transport-Security" not in requests.get(f"{panel.url}/login", timeout=30).headers


def test_a_busy_port_gives_one_clear_line_and_a_non_zero_exit(tmp_path):
    with socket.create_server(("127.0.0.1", free_port())) as taken:
        port = taken.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("ADMINPANEL_")}
        done = subprocess.run(
            [*adminpanel_command(), "serve", "--port", str(port)],
            env={**env, "ADMINPANEL_DATA_DIR": str(tmp_path), "HOME": str(tmp_path)},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 1
    assert f"Cannot listen on 127.0.0.1:{port}: the port is in use by another program." in (
        done.stderr
    )
    assert "Traceback" not in done.stdout + done.stderr
    assert "Connection in use" not in done.stderr  # gunicorn's retries never start


def test_serve_refuses_a_certificate_without_its_key(tmp_path):
    done = subprocess.run(
        [*adminpanel_command(), "serve", "--certfile", str(tmp_path / "cert.pem")],
        env={**os.environ, "ADMINPANEL_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == "HTTPS needs both --certfile and --keyfile."


def raw_exchange(panel, request: bytes) -> bytes:
    """What the panel answers to bytes sent as they are, until it closes the connection."""
    with socket.create_connection(("127.0.0.1", panel.port), timeout=30) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


def test_a_host_header_whose_port_is_not_a_number_gets_400(panel):
    answer = raw_exchange(
        panel, b"GET /login HTTP/1.1\r\nHost: 127.0.0.1:eighty\r\nConnection: close\r\n\r\n"
    )
    assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\n")


def test_requests_sent_together_on_one_connection_are_answered_in_turn(panel):
    health = b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    closing = b"GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    answer = raw_exchange(panel, health + health + closing)
    assert answer.count(b"HTTP/1.1 200 OK\r\n") == 3
    assert answer.index(b'"status"') < answer.index(b"<!doctype html>")  # the login page last
