"""SPEC §13: HTTPS behind a proxy is believed from ADMINPANEL_TRUSTED_PROXIES only."""

import re

from django.test import Client, override_settings

PROXY = "10.0.0.10"


@override_settings(TRUSTED_PROXIES=[PROXY])
def test_https_named_by_the_trusted_proxy_gets_hsts_and_secure_cookies(db):
    answer = Client(REMOTE_ADDR=PROXY).get("/login", HTTP_X_FORWARDED_PROTO="https")
    assert answer["Strict-Transport-Security"] == "max-age=31536000"
    assert answer.cookies["__Host-csrftoken"]["secure"] is True
    assert "csrftoken" not in answer.cookies


@override_settings(TRUSTED_PROXIES=[PROXY])
def test_over_https_a_cookie_without_the_host_prefix_is_ignored(db):
    """A plain-named CSRF cookie (set by a sibling subdomain or over HTTP) counts for nothing."""
    client = Client(
        enforce_csrf_checks=True,
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_PROTO="https",
        HTTP_HOST="testserver",
        HTTP_REFERER="https://testserver/login",
    )
    page = client.get("/login").content.decode()
    form = {"username": "x", "password": "y"}
    form["csrfmiddlewaretoken"] = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
    assert client.post("/login", form).status_code == 200  # the __Host- cookie: a form error
    client.cookies["csrftoken"] = client.cookies.pop("__Host-csrftoken").value
    assert client.post("/login", form).status_code == 403


@override_settings(TRUSTED_PROXIES=[PROXY])
def test_https_named_by_anyone_else_is_ignored(db):
    answer = Client(REMOTE_ADDR="203.0.113.5").get("/login", HTTP_X_FORWARDED_PROTO="https")
    assert "Strict-Transport-Security" not in answer
    assert not answer.cookies["csrftoken"]["secure"]


def test_without_trusted_proxies_the_header_is_ignored(db):
    answer = Client(REMOTE_ADDR=PROXY).get("/login", HTTP_X_FORWARDED_PROTO="https")
    assert "Strict-Transport-Security" not in answer


@override_settings(TRUSTED_PROXIES=["unix"])
def test_unix_trusts_requests_over_the_socket_and_no_address(db):
    over_socket = Client(REMOTE_ADDR="0.0.0.0", **{"adminpanel.unix_socket": True})  # noqa: S104
    assert "Strict-Transport-Security" in over_socket.get("/login", HTTP_X_FORWARDED_PROTO="https")
    loopback = Client(REMOTE_ADDR="127.0.0.1")
    assert "Strict-Transport-Security" not in loopback.get("/login", HTTP_X_FORWARDED_PROTO="https")
