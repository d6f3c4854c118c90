"""The text request log (ADMINPANEL_LOG_FORMAT=text, the default) writes one line per request,
whatever a client puts in the path or the user agent: no forged lines, no terminal escapes."""

import io
import logging

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

FORGED = '\n203.0.113.9 admin "POST /api/v1/auth/login" 200 1.0ms'


@pytest.fixture
def request_lines():
    """What the configured handler of adminpanel.requests writes, as text lines."""
    logger = logging.getLogger("adminpanel.requests")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.handlers[0].formatter)
    logger.addHandler(handler)
    yield lambda: stream.getvalue().splitlines()
    logger.removeHandler(handler)


def test_a_line_break_in_the_path_cannot_write_a_log_line_of_its_own(request_lines):
    Client().get("/nowhere%0A203.0.113.9%20admin%20%22POST%20/api/v1/auth/login%22%20200")
    (line,) = request_lines()
    assert "\\x0a203.0.113.9 admin" in line and "404" in line


def test_escape_sequences_never_reach_the_operators_terminal(request_lines):
    Client().get("/nowhere%1B%5B2J%1B%5B31m%07%7F%C2%9B")
    (line,) = request_lines()
    assert "\x1b" not in line and "\x07" not in line and "\x7f" not in line and "\x9b" not in line
    assert "\\x1b[2J\\x1b[31m\\x07\\x7f\\x9b" in line
