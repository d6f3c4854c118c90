"""SPEC §16 "Import and export" and "Import existing hashes", through the API: every line
checked, its errors by line number (the header is line 1), all lines saved or none; generated
passwords shown once; hashes Dovecot verifies imported as they are, weak ones refused; the
export has no passwords and no formulas."""

import csv
import io

import pytest
from django.contrib.auth.hashers import check_password
from django.db import connection

from adminpanel.accounts.models import Level
from adminpanel.audit.models import Event
from adminpanel.mail import services as mail
from adminpanel.mail.mailbox_csv import MAX_LINES, MAX_PASSWORDS_TO_HASH, import_mailboxes
from adminpanel.mail.models import Mailbox
from tests.api.client import Api

pytestmark = pytest.mark.django_db

HEADER = "address,display_name,password,quota_mb"
GOOD_PASSWORD = "Mailbox-Cobalt-Harbor-27"
# Made with `doveadm pw -s SCHEME -p secret` (Dovecot 2.3).
SHA512_CRYPT = (
    "{SHA512-CRYPT}$6$k.Kp3/HG.TfaFhTA$LakupcI2RCSGvpA9iCgifjeouFyt6T9YC1FNQLRcoMkqSqlFWxqfjuP"
    "qiG8h/8Vc2ah.F7Sn4erD.wr6j1O33."
)
SHA256_CRYPT = "{SHA256-CRYPT}$5$iN885XhaA/6P4QFG$rGYoQzilITosYK/bo9n9BWDh5Pv.AMXDXJHkiMo5YSA"
BLF_CRYPT = "{BLF-CRYPT}$2y$05$f3vaEm8FVhXaEP5xN3m9u.9rhaQ5A89TYtw3sum8uKTTO2Uco0C7a"
ARGON2ID = (
    "{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$3iWAu3GeprCIWm8UXKclyQ$FdUaHyAgB9Cvn+Bl+W2jgPXTL"
    "VEN6TpnZgPn615o2EI"
)


def csv_of(*lines: str) -> str:
    return "\n".join([HEADER, *lines]) + "\n"


def import_csv(client: Api, text: str, *, dry_run: bool = False):
    return client.post("/users/import", {"csv": text, "dry_run": dry_run})


def errors(answer) -> list[tuple[int, str]]:
    return [(e["line"], e["message"]) for e in answer.body["errors"]]


def addresses() -> list[str]:
    return sorted(m.address for m in Mailbox.objects.select_related("domain"))


@pytest.fixture
def example(admin):
    return mail.create_domain(admin, name="example.com")


# --- import: what a good file does --------------------------------------------------------


def test_a_dry_run_previews_every_line_and_saves_nothing(admin_api, example):
    text = csv_of("anna@example.com,Anna,,2048", f"bob@example.com,Bob,{GOOD_PASSWORD},")
    answer = import_csv(admin_api, text, dry_run=True)
    assert answer.status == 200, answer.body
    assert answer.body["errors"] == [] and answer.body["created"] == 0
    assert answer.body["generated_passwords"] == {}
    assert [
        (n["line"], n["address"], n["quota_mb"], n["what_happens"]) for n in answer.body["lines"]
    ] == [
        (2, "anna@example.com", 2048, "Added with a generated password"),
        (3, "bob@example.com", 1024, "Added with the password given"),
    ]
    assert addresses() == []
    assert not Event.objects.filter(event="mailboxes_imported").exists()


def test_an_import_creates_every_mailbox_and_shows_generated_passwords_once(admin_api, example):
    text = csv_of("anna@example.com,Anna,,2048", f"bob@example.com,Bob,{GOOD_PASSWORD},")
    answer = import_csv(admin_api, text)
    assert answer.status == 201, answer.body
    assert answer.body["created"] == 2
    generated = answer.body["generated_passwords"]
    assert list(generated) == ["anna@example.com"]
    anna = Mailbox.objects.get(local_part="anna")
    bob = Mailbox.objects.get(local_part="bob")
    assert (anna.display_name, anna.quota_mb, bob.quota_mb) == ("Anna", 2048, 1024)
    assert anna.password_hash.startswith("argon2$argon2id$")
    assert check_password(generated["anna@example.com"], anna.password_hash)
    assert check_password(GOOD_PASSWORD, bob.password_hash)
    assert anna.maildir.startswith("example.com/anna.") and anna.maildir != bob.maildir
    # Shown once: no later answer holds it.
    assert generated["anna@example.com"] not in str(admin_api.get("/users").body)


def test_a_generated_password_is_long_random_and_passes_the_password_rules(admin_api, example):
    text = csv_of("a@example.com,,,", "b@example.com,,,")
    generated = import_csv(admin_api, text).body["generated_passwords"]
    first, second = generated["a@example.com"], generated["b@example.com"]
    assert first != second and len(first) >= 20


def test_one_event_is_logged_with_the_count_and_no_password_or_hash(admin_api, example):
    text = csv_of(
        "anna@example.com,,,",
        f"bob@example.com,,{GOOD_PASSWORD},",
        f"c@example.com,,{SHA512_CRYPT},",
    )
    generated = import_csv(admin_api, text).body["generated_passwords"]
    (event,) = Event.objects.filter(event="mailboxes_imported")
    assert event.details == {"count": 3, "generated_passwords": 1, "imported_hashes": 1}
    assert event.actor.username == "admin"
    logged = str(list(Event.objects.values_list("details", flat=True)))
    for secret in [GOOD_PASSWORD, generated["anna@example.com"], SHA512_CRYPT[15:40]]:
        assert secret not in logged


def test_the_header_may_name_the_columns_in_any_order_and_a_bom_is_tolerated(admin_api, example):
    text = "\ufeffquota_mb,Address,password,display_name\r\n512,anna@example.com,,Anna\r\n"
    answer = import_csv(admin_api, text)
    assert answer.status == 201, answer.body
    anna = Mailbox.objects.get()
    assert (anna.address, anna.display_name, anna.quota_mb) == ("anna@example.com", "Anna", 512)


def test_blank_lines_are_skipped_but_counted(admin_api, example):
    answer = import_csv(admin_api, HEADER + "\n\nanna@example.com,,,x\n", dry_run=True)
    assert errors(answer)[0][0] == 3


def test_an_international_domain_is_matched_in_either_spelling(admin, admin_api):
    mail.create_domain(admin, name="bücher.example")
    answer = import_csv(admin_api, csv_of("anna@BÜCHER.example,,,", "bob@xn--bcher-kva.example,,,"))
    assert answer.status == 201, answer.body
    assert addresses() == ["anna@bücher.example", "bob@bücher.example"]


def test_a_deleted_mailboxs_address_may_be_imported_again(admin, admin_api, example):
    old = mail.create_mailbox(admin, address="anna@example.com", password=GOOD_PASSWORD)
    mail.delete_mailbox(admin, old)
    assert import_csv(admin_api, csv_of("anna@example.com,,,")).status == 201
    assert Mailbox.objects.get().maildir != Mailbox.with_deleted.get(pk=old.pk).maildir


# --- import: what a wrong line does --------------------------------------------------------


def test_line_numbers_count_the_header_as_line_1(admin_api, example):
    text = csv_of("anna@example.com,,,", "not-an-address,,,", "bob@example.com,,,zero")
    answer = import_csv(admin_api, text, dry_run=True)
    assert answer.status == 422
    assert [line for line, _ in errors(answer)] == [3, 4]
    assert [n["errors"] != [] for n in answer.body["lines"]] == [False, True, True]


def test_one_wrong_line_saves_nothing(admin_api, example):
    text = csv_of("anna@example.com,,,", "bob@example.com,,,", "carol@nowhere.example,,,")
    answer = import_csv(admin_api, text)
    assert answer.status == 422
    assert answer.error == "validation_error"
    assert answer.body["created"] == 0 and answer.body["generated_passwords"] == {}
    assert errors(answer) == [(4, "There is no domain nowhere.example. Add the domain first.")]
    assert addresses() == []
    assert not Event.objects.filter(event="mailboxes_imported").exists()


def test_an_address_twice_in_the_file_is_refused_whatever_its_case(admin_api, example):
    answer = import_csv(admin_api, csv_of("anna@example.com,,,", "ANNA@Example.com,,,"))
    assert answer.status == 422
    assert errors(answer) == [(3, "ANNA@Example.com is already on line 2.")]


def test_an_address_of_a_mailbox_or_an_alias_is_refused(admin, admin_api, example):
    mail.create_mailbox(admin, address="anna@example.com", password=GOOD_PASSWORD)
    mail.create_alias(admin, address="team@example.com", destinations=["anna@example.com"])
    answer = import_csv(admin_api, csv_of("Anna@example.com,,,", "team@example.com,,,"))
    assert errors(answer) == [
        (2, "Anna@example.com is already a mailbox."),
        (3, "team@example.com is already an alias."),
    ]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("a/b@example.com,,,", "The part before @"),
        ("anna@example.com,,short,", "too short"),
        ("anna@example.com,,password123,", "too common"),
        ("anna@example.com,,,0", "The quota is a whole number of MB"),
        ("anna@example.com,,,1.5", "The quota is a whole number of MB"),
        ("anna@example.com,,,", ""),  # (the good line, for contrast)
        ("anna@example.com," + "x" * 201 + ",,", "at most 200 characters"),
        ("anna@example.com,,", "This line has 3 fields; the header has 4."),
        (f"anna@example.com,,{ARGON2ID},", "A password hash with commas goes in double quotes"),
    ],
)
def test_each_field_is_checked_by_the_rules_of_a_new_mailbox(admin_api, example, line, message):
    answer = import_csv(admin_api, csv_of(line), dry_run=True)
    if not message:
        assert answer.status == 200
        return
    assert answer.status == 422
    ((number, text),) = errors(answer)
    assert number == 2 and message in text


def test_every_wrong_line_is_reported_at_once(admin_api, example):
    text = csv_of("a@nowhere.example,,,", "b@example.com,,,x", "c@example.com,,short,")
    assert [line for line, _ in errors(import_csv(admin_api, text))] == [2, 3, 4]


@pytest.mark.parametrize(
    "header",
    [
        "address,display_name,password",
        "address,display_name,password,quota_mb,active",
        "email,name,password,quota",
    ],
)
def test_the_header_must_name_the_four_columns(admin_api, example, header):
    answer = import_csv(admin_api, f"{header}\nanna@example.com,,,\n", dry_run=True)
    assert answer.status == 422
    ((line, message),) = errors(answer)
    assert line == 1 and "address,display_name,password,quota_mb" in message


def test_10000_mailboxes_with_imported_hashes_go_through_the_api_in_one_import(admin_api, example):
    lines = [f'u{n}@example.com,User {n},"{SHA512_CRYPT}",' for n in range(MAX_LINES)]
    text = csv_of(*lines)
    assert len(text.encode()) > 1024 * 1024  # over the 1 MB of every other request
    answer = import_csv(admin_api, text)
    assert (answer.status, answer.body["created"]) == (201, MAX_LINES), answer.body
    assert Mailbox.objects.count() == MAX_LINES


def test_an_import_hashes_at_most_500_passwords_and_says_so_saving_nothing(admin_api, example):
    lines = [f"u{n}@example.com,,," for n in range(MAX_PASSWORDS_TO_HASH + 1)]
    answer = import_csv(admin_api, csv_of(*lines))
    assert answer.status == 422
    ((line, message),) = errors(answer)
    assert line == 0 and "501 lines have a password for the panel to hash" in message
    assert "in parts" in message and addresses() == []


def test_a_body_over_4_mb_is_413_naming_the_import_limit(admin_api):
    answer = admin_api.post("/users/import", raw=b'{"csv": "' + b"a" * (5 * 1024 * 1024) + b'"}')
    assert (answer.status, answer.body["message"]) == (
        413,
        "The request body is larger than 4 MB.",
    )
    other = admin_api.post("/domains", raw=b'{"name": "' + b"a" * (2 * 1024 * 1024) + b'"}')
    assert (other.status, other.body["message"]) == (413, "The request body is larger than 1 MB.")


def test_a_file_with_more_than_10000_mailboxes_is_refused_at_the_first_line_over(admin, example):
    lines = [f"u{n}@example.com,,,x" for n in range(MAX_LINES + 1)]
    result = import_mailboxes(admin, csv_of(*lines), dry_run=True)
    assert [(e.line, e.message[:30]) for e in result.errors] == [
        (MAX_LINES + 2, "The CSV has more than 10,000 m")
    ]


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (HEADER + '\nanna@example.com,"Anna,,\nbob@example.com,,,\n', 2, "not balanced"),
        (HEADER + "\nanna@example.com,A\x00nna,,\n", 2, "NUL"),
        ("", 1, "empty"),
        (HEADER + "\n", 2, "no mailboxes"),
        (HEADER + "\nanna@example.com," + "x" * 5000 + ",,\n", 2, "over 2,000 characters"),
    ],
)
def test_an_unreadable_file_is_refused_with_the_line(admin, example, text, line, message):
    result = import_mailboxes(admin, text, dry_run=False)
    ((error,),) = [result.errors]
    assert error.line == line and message in error.message
    assert addresses() == []


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b'{"csv": "address\\u0000,x", "dry_run": true}', 400),  # NUL
        (b'{"csv": "\xff\xfe", "dry_run": true}', 400),  # not UTF-8
        (b'{"csv": 5, "dry_run": true}', 422),
        (b'{"csv": "a", "dry_run": "maybe"}', 422),
        (b'{"csv": "a", "extra": 1}', 422),
        (b'{"csv": "' + b"a" * (10 * 1024 * 1024) + b'"}', 413),  # 10 MB
    ],
)
def test_anything_a_client_sends_gets_a_4xx_never_a_5xx(admin_api, raw, status):
    assert admin_api.post("/users/import", raw=raw).status == status


def test_unbalanced_quotes_through_the_api_are_a_422(admin_api, example):
    answer = import_csv(admin_api, HEADER + '\n"anna@example.com,,,\n', dry_run=True)
    assert (answer.status, errors(answer)[0][0]) == (422, 2)


# --- import existing hashes -----------------------------------------------------------------


@pytest.mark.parametrize("hashed", [SHA512_CRYPT, SHA256_CRYPT, BLF_CRYPT, ARGON2ID])
def test_a_hash_dovecot_verifies_is_stored_as_dovecot_reads_it(admin_api, example, hashed):
    answer = import_csv(admin_api, csv_of(f'anna@example.com,Anna,"{hashed}",'))
    assert answer.status == 201, answer.body
    assert answer.body["generated_passwords"] == {}
    anna = Mailbox.objects.get()
    assert anna.password_hash == hashed
    # Django's own check fails (it does not raise): the web sign-in re-hashes it (SPEC §16).
    assert check_password("secret", anna.password_hash) is False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT password FROM mailserver_mailboxes WHERE address = %s", ["anna@example.com"]
        )
        assert cursor.fetchone() == (hashed,)


def test_the_preview_names_the_scheme_of_an_imported_hash(admin_api, example):
    answer = import_csv(admin_api, csv_of(f"anna@example.com,,{BLF_CRYPT},"), dry_run=True)
    assert answer.body["lines"][0]["what_happens"] == "Added with its BLF-CRYPT hash"


@pytest.mark.parametrize(
    "hashed",
    [
        "{PLAIN}secret-password",
        "{CLEARTEXT}secret-password",
        "{PLAIN-MD5}5ebe2294ecd0e0f08eab7690d2a6ee69",
        "{MD5}$1$abcdefgh$E3s1kqpGQFFbQ2DiBq9Wg.",
        "{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=",
        "{SHA1}5en6G6MezRroT3XKqkdPOmY/BfQ=",
        "{SSHA512}c2VjcmV0c2VjcmV0c2VjcmV0",
        "{md5-crypt}$1$abcdefgh$E3s1kqpGQFFbQ2DiBq9Wg.",
    ],
)
def test_a_plain_or_weak_scheme_is_refused_with_the_reason(admin_api, example, hashed):
    answer = import_csv(admin_api, csv_of(f"anna@example.com,,{hashed},"))
    assert answer.status == 422
    ((line, message),) = errors(answer)
    assert line == 2 and "plain text or a weak hash" in message
    assert hashed not in str(answer.body)  # the hash is never echoed
    assert addresses() == []


@pytest.mark.parametrize(
    ("hashed", "message"),
    [
        ("{SHA512-CRYPT}$6$salt$tooshort", "not a valid SHA512-CRYPT hash"),
        ("{SHA512-CRYPT}" + SHA256_CRYPT.partition("}")[2], "not a valid SHA512-CRYPT hash"),
        ("{BLF-CRYPT}secret-password", "not a valid BLF-CRYPT hash"),
        ("{ROT13}frperg-cnffjbeq", "not a scheme the panel imports"),
    ],
)
def test_a_hash_that_does_not_look_like_its_scheme_is_refused(admin_api, example, hashed, message):
    answer = import_csv(admin_api, csv_of(f"anna@example.com,,{hashed},"), dry_run=True)
    ((line, text),) = errors(answer)
    assert line == 2 and message in text


# --- export --------------------------------------------------------------------------------


def exported(client: Api) -> list[list[str]]:
    response = client.client.get(
        "/api/v1/users/export", headers={"Authorization": f"Bearer {client.token}"}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_export_lists_live_mailboxes_without_passwords(admin, admin_api, example):
    mail.create_mailbox(
        admin,
        address="anna@example.com",
        password=GOOD_PASSWORD,
        display_name="Anna",
        quota_mb=2048,
    )
    gone = mail.create_mailbox(admin, address="gone@example.com", password=GOOD_PASSWORD)
    mail.delete_mailbox(admin, gone)
    import_csv(admin_api, csv_of(f"bob@example.com,Bob,{SHA512_CRYPT},"))
    assert exported(admin_api) == [
        ["address", "display_name", "password", "quota_mb"],
        ["anna@example.com", "Anna", "", "2048"],
        ["bob@example.com", "Bob", "", "1024"],
    ]


def test_the_export_guards_cells_against_spreadsheet_formulas(admin, admin_api, example):
    for local, name in [
        ("a", '=HYPERLINK("http://evil")'),
        ("b", "+1"),
        ("c", "-2"),
        ("d", "@SUM(A1)"),
        ("-e", "Plain"),
    ]:
        mail.create_mailbox(
            admin, address=f"{local}@example.com", password=GOOD_PASSWORD, display_name=name
        )
    rows = exported(admin_api)[1:]
    assert [(r[0], r[1]) for r in rows] == [
        ("'-e@example.com", "Plain"),
        ("a@example.com", '\'=HYPERLINK("http://evil")'),
        ("b@example.com", "'+1"),
        ("c@example.com", "'-2"),
        ("d@example.com", "'@SUM(A1)"),
    ]


def test_an_export_imports_again_as_it_was(admin, admin_api, example):
    mail.create_mailbox(
        admin, address="-e@example.com", password=GOOD_PASSWORD, display_name="=1+1"
    )
    text = "".join(",".join(row) + "\n" for row in exported(admin_api))
    Mailbox.objects.all().delete()
    assert import_csv(admin_api, text).status == 201
    (again,) = Mailbox.objects.all()
    assert (again.address, again.display_name) == ("-e@example.com", "=1+1")


# --- who may ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "may_export", "may_import"),
    [(Level.NONE, False, False), (Level.VIEW, True, False), (Level.EDIT, True, True)],
)
def test_export_needs_users_view_and_import_needs_users_edit(
    make_subadmin, example, level, may_export, may_import
):
    make_subadmin("robot", levels={"users": level.value})
    robot = Api()
    assert robot.login("robot").status == 200
    if may_export:
        assert exported(robot)[0] == ["address", "display_name", "password", "quota_mb"]
    else:
        assert robot.get("/users/export").status == 403
    answer = import_csv(robot, csv_of("anna@example.com,,,"), dry_run=True)
    assert answer.status == (200 if may_import else 403)
    if not may_import:
        assert answer.error == "permission_denied"
