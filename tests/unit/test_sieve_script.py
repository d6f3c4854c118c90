"""The Sieve script the mail server runs for a mailbox's Forwarding and Automatic reply
(SPEC §16): whatever a person types stays text inside a Sieve string, never becomes a command."""

import re
import shutil
import subprocess
from datetime import date

import pytest

from adminpanel.mailserver.sieve import (
    REPLY_EVERY_DAYS,
    AutomaticReply,
    Delivery,
    multiline,
    quoted,
    render,
    script_id,
)


def test_a_mailbox_without_settings_has_no_script():
    assert render(Delivery()) == ""
    assert render(Delivery(destinations=(), keep_copy=False)) == ""


def test_quoted_strings_escape_backslash_and_double_quote():
    assert quoted('Away "until" C:\\temp') == '"Away \\"until\\" C:\\\\temp"'
    assert quoted("\\") == '"\\\\"'


def test_a_subject_cannot_end_its_string_and_add_a_command():
    reply = AutomaticReply(subject='x"; discard; "', text="Hello")
    script = render(Delivery(reply=reply))
    assert ':subject "x\\"; discard; \\""' in script
    assert "\ndiscard;" not in script


def test_multiline_text_doubles_a_leading_dot_so_a_lone_dot_cannot_end_it():
    assert multiline("Hi\n.\n.hidden\nBye") == "text:\nHi\n..\n..hidden\nBye\n.\n"
    assert multiline("one\r\ntwo\rthree") == "text:\none\ntwo\nthree\n.\n"


def test_a_reply_text_with_a_lone_dot_line_stays_one_string():
    script = render(Delivery(reply=AutomaticReply("Away", 'Gone.\n.\nredirect "x@evil.test";')))
    assert "\n.\n;" in script  # the string ends only at the generated terminator
    assert '\n..\nredirect "x@evil.test";\n.\n;' in script


def test_forwarding_without_a_copy_redirects_to_each_address_and_keeps_nothing():
    script = render(Delivery(destinations=("a@x.example", "b@y.example"), keep_copy=False))
    assert 'redirect "a@x.example";\nredirect "b@y.example";' in script
    assert "keep;" not in script


def test_forwarding_with_a_copy_keeps_the_message_too():
    script = render(Delivery(destinations=("a@x.example",), keep_copy=True))
    assert script.rstrip().endswith('redirect "a@x.example";\nkeep;')


def test_a_reply_answers_each_sender_once_every_few_days():
    script = render(Delivery(reply=AutomaticReply("Away", "Back on Monday.")))
    assert 'require ["vacation"];' in script
    assert (
        f'vacation :days {REPLY_EVERY_DAYS} :subject "Away" text:\nBack on Monday.\n.\n;' in script
    )


def test_an_empty_subject_is_left_to_the_mail_server():
    assert ":subject" not in render(Delivery(reply=AutomaticReply("", "Back soon.")))


def test_the_reply_dates_are_tested_against_the_current_date():
    reply = AutomaticReply("Away", "Text", starts_on=date(2030, 1, 2), ends_on=date(2030, 1, 31))
    script = render(Delivery(reply=reply))
    assert 'require ["vacation", "date", "relational"];' in script
    assert (
        'if allof(currentdate :value "ge" "date" "2030-01-02", '
        'currentdate :value "le" "date" "2030-01-31") {'
    ) in script


def test_a_new_text_gets_a_new_script_id():
    first = render(Delivery(reply=AutomaticReply("Away", "One")))
    second = render(Delivery(reply=AutomaticReply("Away", "Two")))
    assert script_id(first) != script_id(second)
    assert script_id(first) == script_id(first)


@pytest.mark.skipif(shutil.which("sieve-dump") is None, reason="needs Debian's dovecot-sieve")
def test_pigeonhole_compiles_hostile_text_into_one_reply_and_the_forwarding_only(tmp_path):
    reply = AutomaticReply(
        subject='x"; discard; "\\',
        text='Gone.\n.\nredirect "x@evil.test";\nÉtienne',
        starts_on=date(2030, 1, 1),
        ends_on=date(2030, 2, 1),
    )
    source = tmp_path / "adminpanel.sieve"
    source.write_text(render(Delivery(("a@x.example",), keep_copy=True, reply=reply)))
    binary = tmp_path / "adminpanel.svbin"
    subprocess.run(["sievec", "-c", "/dev/null", source, binary], check=True)  # noqa: S603, S607
    dump = subprocess.run(  # noqa: S603
        ["sieve-dump", "-c", "/dev/null", binary],  # noqa: S607
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    commands = re.findall(r"^[0-9a-f]{8}:\s+\d+: ([A-Z]+)", dump, re.MULTILINE)
    assert commands == [
        "CURRENTDATE",
        "JMPFALSE",
        "CURRENTDATE",
        "JMPFALSE",
        "VACATION",
        "REDIRECT",
        "KEEP",
    ]
    assert 'subject: STR[15] "x"; discard; "\\"' in dump
