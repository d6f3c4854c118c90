"""Issue 11, "Friendlier where people stumble": the pages say and offer what people look for."""

import html
import re

import pytest

from adminpanel.errors import Refused
from adminpanel.mail.models import Alias, Mailbox
from adminpanel.subadmins import services as subadmins
from adminpanel.twofactor import services as twofactor
from tests.integration.panel import (
    PASSWORD,
    field_error,
    log_in_admin,
    make_admin,
    make_subadmin,
    seed_mail,
    text,
    verify,
)
from tests.integration.setup_flow import begin_setup, code_for, save_setup

pytestmark = pytest.mark.django_db


# --- recovery codes ------------------------------------------------------------------------


def test_done_needs_i_have_saved_these_codes_ticked(logged_in, clock):
    _, key, setup = begin_setup(logged_in)
    page = text(save_setup(logged_in, setup, code_for(key, clock)))
    box = re.search(r'<input type="checkbox" name="saved" id="codes-saved"[^>]*>', page)
    assert box and " required" in box.group(0)  # the browser refuses Done without it
    assert '<label for="codes-saved">I have saved these codes</label>' in page
    form = re.search(r"<form[^>]*data-codes-hand-off[^>]*>(.*?)</form>", page, re.S)
    assert 'action="/security/2fa"' in form.group(0)
    assert ">Done</button>" in form.group(1) and "codes-saved" in form.group(1)


# --- setup on a phone ----------------------------------------------------------------------


def test_the_setup_page_offers_open_in_authenticator_app_with_its_uri(logged_in):
    page, key, _ = begin_setup(logged_in)
    link = re.search(
        r'<a class="button secondary" href="([^"]+)">Open in authenticator app</a>', page
    )
    assert link
    uri = html.unescape(link.group(1))
    assert uri.startswith("otpauth://totp/Admin%20Panel:alice?secret=" + key)


def test_the_setup_page_has_copy_beside_the_key(logged_in):
    page, _, _ = begin_setup(logged_in)
    assert re.search(
        r'<code id="manual-key">[A-Z2-7 ]+</code> <button [^>]*data-copy="manual-key"[^>]*>Copy',
        page,
    )


# --- the throttled pop-up ------------------------------------------------------------------


def test_the_throttled_pop_up_counts_down_and_says_recovery_codes_wait_too(
    pending_client, alice_2fa
):
    for _ in range(5):
        response = verify(pending_client, alice_2fa.wrong_code())
    page = text(response)
    countdown = re.search(r'<p [^>]*id="wait-countdown" data-seconds-left="(\d+)">(.*?)</p>', page)
    assert countdown and countdown.group(1) == "60"
    assert "Recovery codes wait too." in countdown.group(2)
    response = verify(pending_client, alice_2fa.recovery_codes[0])  # refused unchecked
    assert response.status_code == 429
    assert 'data-seconds-left="60"' in text(response)


def test_the_pop_up_has_no_countdown_before_a_wait(pending_client, alice_2fa):
    page = text(verify(pending_client, alice_2fa.wrong_code()))
    assert "Invalid code." in page
    assert "wait-countdown" not in page


# --- Home's "Enable 2FA" ------------------------------------------------------------------


def test_homes_enable_2fa_lands_with_enabled_selected(logged_in):
    home = text(logged_in.get("/"))
    link = re.search(r'<a class="button primary" href="([^"]+)">Enable 2FA</a>', home)
    assert link and link.group(1) == "/security/2fa?status=enabled"
    page = text(logged_in.get(link.group(1)))
    assert '<option value="enabled" selected>Enabled</option>' in page
    assert "Two-factor authentication is disabled." in page  # the status itself is unchanged


def test_the_2fa_page_selects_the_current_status_by_default(logged_in):
    page = text(logged_in.get("/security/2fa"))
    assert '<option value="disabled" selected>Disabled</option>' in page


# --- the Logs in people's words ------------------------------------------------------------


def logs_row(page: str, event: str) -> str:
    row = re.search(
        rf"<tr>(?:(?!</tr>).)*<code class=\"event muted\">{event}</code>.*?</tr>", page, re.S
    )
    assert row, f"no {event} row"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row.group(0))).strip()


@pytest.fixture
def admin_logs():
    """The Admin's browser; the log holds a Sub-Admin's creation and an edit of it."""
    admin = make_admin()
    bob = make_subadmin(admin, "bob", levels={"domains": 1})
    subadmins.update_subadmin(admin, bob, levels={"domains": 2}, allowed_ips="10.0.0.0/8")
    return log_in_admin()


def test_events_are_named_in_peoples_words(admin_logs, alice_2fa):
    with pytest.raises(Refused):
        twofactor.verify_code(alice_2fa.account, alice_2fa.wrong_code(), now=alice_2fa.clock())
    page = text(admin_logs.get("/logs"))
    assert "2FA code refused" in logs_row(page, "2fa_failed")
    assert "Reason: wrong code" in logs_row(page, "2fa_failed")
    assert "While: signing in" in logs_row(page, "2fa_failed")


def test_edits_are_shown_as_old_to_new(admin_logs):
    row = logs_row(text(admin_logs.get("/logs")), "subadmin_updated")
    assert "Sub-Admin changed" in row
    assert "Domains: View → Edit" in row
    assert "Allowed IPs: none → 10.0.0.0/8" in row


def test_booleans_and_lists_are_formatted(admin_logs):
    row = logs_row(text(admin_logs.get("/logs")), "subadmin_created")
    assert "Admin Panel: Yes" in row and "API: No" in row
    assert "Allowed IPs: none" in row
    assert "True" not in row and "[]" not in row


def test_the_log_can_be_searched_by_text(admin_logs):
    page = text(admin_logs.get("/logs", {"text": "10.0.0.0/8"}))
    assert "1 event, newest first" in page
    assert "Sub-Admin changed" in page
    words = text(admin_logs.get("/logs", {"text": "sub-admin added"}))  # the event's words
    assert "1 event, newest first" in words
    assert "Sub-Admin added" in words


def test_a_search_that_matches_nothing_says_so(admin_logs):
    assert "No events match." in text(admin_logs.get("/logs", {"text": "nothing-like-this"}))


# --- Security → Password ---------------------------------------------------------------------


def change_password(client, current: str, new: str, again: str):
    data = {"old_password": current, "new_password1": new, "new_password2": again}
    return client.post("/security/password", data)


def test_the_password_page_speaks_our_words(logged_in):
    page = text(logged_in.get("/security/password"))
    for label in ("Current password", "New password", "New password again"):
        assert f">{label}</label>" in page
    assert "At least 10 characters, not a common password." in page
    assert "Old password" not in page and "confirmation" not in page


@pytest.mark.parametrize(
    ("current", "new", "again", "field", "message"),
    [
        (
            "wrong-password-here",
            "Fresh-Lantern-2026",
            "Fresh-Lantern-2026",
            "old_password",
            "This is not your current password.",
        ),
        (PASSWORD, "short-1", "short-1", "new_password1", "at least 10 characters"),
        (
            PASSWORD,
            "Fresh-Lantern-2026",
            "Fresh-Lantern-2027",
            "new_password2",
            "The two new passwords are not the same.",
        ),
    ],
)
def test_each_password_error_is_under_its_field(
    logged_in, alice, current, new, again, field, message
):
    response = change_password(logged_in, current, new, again)
    assert response.status_code == 400
    assert message in field_error(response, field)
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def test_a_good_new_password_is_saved(logged_in, alice):
    response = change_password(logged_in, PASSWORD, "Fresh-Lantern-2026", "Fresh-Lantern-2026")
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password("Fresh-Lantern-2026")


# --- one name for mailboxes, and a domain picker -----------------------------------------------


@pytest.fixture
def mail_admin():
    admin = make_admin()
    seed_mail(admin)
    return log_in_admin()


def test_the_users_page_speaks_of_mailboxes(mail_admin):
    page = text(mail_admin.get("/users"))
    assert (
        '<a href="/users">Users</a>' in page or 'href="/users" aria-current="page">Users<' in page
    )
    assert ">Add Mailbox</a>" in page
    assert 'placeholder="Search mailboxes"' in page
    assert "No mailboxes match your search." in text(mail_admin.get("/users", {"q": "zzz"}))


@pytest.mark.parametrize("section", ["users", "aliases"])
def test_adding_offers_a_domain_picker(mail_admin, section):
    page = text(mail_admin.get(f"/{section}/add"))
    assert '<label for="id_domain">Domain</label>' in page
    options = re.findall(r'<option value="([^"]*)"', page)
    assert options[:3] == ["", "example.com", "spare.example"]


def test_a_mailbox_is_added_from_its_name_and_the_picked_domain(mail_admin):
    data = {"address": "anna", "domain": "spare.example", "password": "Mailbox-Cobalt-Harbor-27"}
    response = mail_admin.post("/users/add", {**data, "quota_mb": "1024", "active": "on"})
    assert response.status_code == 302
    assert Mailbox.objects.filter(local_part="anna", domain__name="spare.example").exists()


def test_an_alias_is_added_from_its_name_and_the_picked_domain(mail_admin):
    data = {"address": "team", "domain": "example.com", "destinations": "info@example.com"}
    assert mail_admin.post("/aliases/add", {**data, "active": "on"}).status_code == 302
    assert Alias.objects.filter(local_part="team", domain__name="example.com").exists()


def test_a_name_without_a_domain_is_refused(mail_admin):
    data = {"address": "anna", "domain": "", "password": "Mailbox-Cobalt-Harbor-27"}
    response = mail_admin.post("/users/add", {**data, "quota_mb": "1024"})
    assert response.status_code == 400
    assert field_error(response, "address").endswith(
        "Or type the part before @ and choose its domain."
    )
    assert not Mailbox.objects.filter(local_part="anna").exists()
