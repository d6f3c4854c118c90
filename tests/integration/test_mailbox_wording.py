"""Issue 21 item 13: the section is "Users" (SPEC), its items are mailboxes, in every sentence:
the pages and the API's own descriptions."""

import re

import pytest

from tests.integration.panel import log_in_admin, text

pytestmark = pytest.mark.django_db


def test_the_api_describes_mailboxes_not_users(admin):
    schema = text(log_in_admin().get("/api/v1/openapi.json"))
    assert "The mailbox's id." in schema
    assert "unknown users" not in schema
    assert "with users or aliases" not in schema
    assert not re.search(r"user's \(mailbox's\)", schema)


def test_the_users_section_counts_and_adds_mailboxes(admin):
    page = text(log_in_admin().get("/users"))
    assert "<h1>Users</h1>" in page
    assert ">Add Mailbox</a>" in page
    assert re.search(r'<p class="count" role="status">0 mailboxes', page)
