"""SPEC §14 on the Admin's pages: Users shows each owner's 2FA; a mailbox's edit page has
Reset 2FA (Users: Edit, Confirm access), which turns it off and tells the owner."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from adminpanel.audit.models import Event
from adminpanel.mail import services as mail
from adminpanel.notices.models import Notice
from adminpanel.twofactor import interface as twofactor
from tests.integration.panel import log_in_admin, text
from tests.owners import OWNER_PASSWORD, owner_of, owner_with_2fa

pytestmark = pytest.mark.django_db


@pytest.fixture
def box(admin):
    mail.create_domain(admin, name="owners.example")
    return mail.create_mailbox(admin, address="ann@owners.example", password=OWNER_PASSWORD)


def test_users_and_the_edit_page_show_the_owners_2fa_and_reset_turns_it_off(
    admin, box, clock, settings
):
    settings.NOTICES_ENABLED = True
    owner_with_2fa(box, clock)
    client = log_in_admin()
    assert ">2FA</th>" in text(client.get("/users")) and ">On</span>" in text(client.get("/users"))
    edit = text(client.get(f"/users/{box.pk}"))
    assert "The owner has two-factor authentication" in edit and "Reset 2FA" in edit
    confirm = text(client.get(f"/users/{box.pk}/reset-2fa"))
    assert "Reset 2FA of ann@owners.example?" in confirm
    assert client.post(f"/users/{box.pk}/reset-2fa").url == f"/users/{box.pk}"
    assert not twofactor.is_enabled(owner_of(box))
    assert Notice.objects.filter(event="2fa_reset", to="ann@owners.example").exists()
    assert "The owner has no two-factor authentication" in text(client.get(f"/users/{box.pk}"))


def test_reset_2fa_of_a_mailbox_without_2fa_says_so_and_does_nothing(admin, box, settings):
    """The web's answer is the API's (409 two_factor_not_enabled): nothing logged or mailed."""
    settings.NOTICES_ENABLED = True
    client = log_in_admin()
    nothing = (
        "The owner of ann@owners.example has no two-factor authentication: there is nothing to "
        "reset."
    )
    confirm = text(client.get(f"/users/{box.pk}/reset-2fa"))
    assert nothing in confirm and ">Reset 2FA</button>" not in confirm
    response = client.post(f"/users/{box.pk}/reset-2fa")  # a form sent anyway
    assert response.url == f"/users/{box.pk}"
    assert nothing in text(client.get(response.url))
    assert not Event.objects.filter(event="2fa_reset").exists()
    assert not Notice.objects.filter(event="2fa_reset").exists()


def test_the_users_page_reads_each_owners_2fa_in_its_own_query(admin, box, clock):
    other = mail.create_mailbox(admin, address="bob@owners.example", password=OWNER_PASSWORD)
    owner_with_2fa(box, clock)
    client = log_in_admin()
    with CaptureQueriesContext(connection) as queries:
        page = text(client.get("/users"))
    rows = {row.split("</a>")[0]: row for row in page.split('<a href="/users/')[1:]}
    assert ">On</span>" in rows[f'{box.pk}">ann@owners.example']
    assert ">On</span>" not in rows[f'{other.pk}">bob@owners.example']
    (sql,) = [q["sql"] for q in queries if "twofactor_" in q["sql"]]  # one query for the page
    assert sql.count("twofactor_totpdevice") == 1 and sql.count("twofactor_webauthnkey") == 1
