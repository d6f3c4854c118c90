"""Issue 11, "Friendlier where people stumble": the pages say and offer what people look for."""

import html
import re

import pytest

from tests.integration.conftest import text, verify
from tests.integration.test_twofactor_pages import begin_setup, code_for, save_setup

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
