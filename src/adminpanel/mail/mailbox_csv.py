"""Import and export of mailboxes as CSV (SPEC §16, "Import and export", "Import existing
hashes"). Web and API call these.

The CSV has a header row `address,display_name,password,quota_mb` (any order). A password is
one of: empty (a generated one, shown once after saving), a plain password (the rules of
create_mailbox), or a hash Dovecot verifies, `{SCHEME}…`, stored verbatim: the view
mailserver_mailboxes hands a hash starting with `{` to Dovecot as it is, and Django's
check_password fails on it, so the owner's web sign-in can recognise it by its `{` and
re-hash the password as Argon2id (SPEC §16).

Line numbers count the header as line 1; line 0 is the file as a whole. An import saves all
lines or none.
"""

import csv
import io
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.db.models.functions import Lower

from adminpanel import audit
from adminpanel.accounts.models import Account, Level
from adminpanel.accounts.passwords import checked_new_password
from adminpanel.accounts.permissions import require
from adminpanel.audit.catalogue import AuditEvent
from adminpanel.errors import Invalid
from adminpanel.mail import scope
from adminpanel.mail.addresses import split_address
from adminpanel.mail.maildirs import new_maildir
from adminpanel.mail.models import PERSON_KIND, Alias, Domain, Mailbox
from adminpanel.mail.services import MAX_QUOTA_MB
from adminpanel.people.models import Person

COLUMNS = ("address", "display_name", "password", "quota_mb")
MAX_LINES = 10_000  # mailboxes per import; more: import in parts
MAX_LINE_CHARS = 2_000  # one mailbox's line; the longest password hash is about 120
MAX_CSV_CHARS = MAX_LINES * 200  # 10,000 lines of hashes (IMPORT_BODY_LIMIT takes them)
MAX_HASH_CHARS = 256  # Mailbox.password_hash
# Generated or given passwords are hashed with Argon2id while the request waits (about 25 ms
# each here, 35 ms on a busy machine): 500 keep an import well inside the server's 60 s;
# imported hashes cost nothing.
MAX_PASSWORDS_TO_HASH = 500
DEFAULT_QUOTA_MB = 1024
WHOLE_FILE = 0

# Hashes Dovecot verifies and an attacker cannot cheaply reverse: the scheme, and the shape
# of what follows it (Dovecot's own output, `doveadm pw -s SCHEME`).
_B64 = r"[./0-9A-Za-z]"
_ROUNDS = r"(rounds=[0-9]{1,9}\$)?"
_ARGON2 = r"\$v=19\$m=[0-9]{1,9},t=[0-9]{1,9},p=[0-9]{1,3}\$[A-Za-z0-9+/]{11,}\$[A-Za-z0-9+/]{16,}"
ACCEPTED_SCHEMES = {
    "SHA512-CRYPT": re.compile(rf"\$6\${_ROUNDS}{_B64}{{1,16}}\${_B64}{{86}}"),
    "SHA256-CRYPT": re.compile(rf"\$5\${_ROUNDS}{_B64}{{1,16}}\${_B64}{{43}}"),
    "BLF-CRYPT": re.compile(rf"\$2[abxy]?\$[0-9]{{2}}\${_B64}{{53}}"),
    "ARGON2ID": re.compile(rf"\$argon2id{_ARGON2}"),
    "ARGON2I": re.compile(rf"\$argon2i{_ARGON2}"),
}
# Schemes Dovecot understands that are plain text, reversible or fast to guess.
WEAK_SCHEMES = frozenset(
    {
        "PLAIN", "CLEARTEXT", "CLEAR", "PLAIN-TRUNC", "PLAIN-MD4", "PLAIN-MD5", "LDAP-MD5",
        "MD5", "MD5-CRYPT", "SMD5", "CRYPT", "DES-CRYPT", "SHA", "SHA1", "SSHA", "SHA256",
        "SSHA256", "SHA512", "SSHA512", "CRAM-MD5", "DIGEST-MD5", "HMAC-MD5", "NTLM", "LANMAN",
        "RPA", "OTP", "SKEY", "PBKDF2", "SCRAM-SHA-1", "SCRAM-SHA-256",
    }
)  # fmt: skip
SCHEME = re.compile(r"\{([A-Za-z0-9._-]{1,40})\}(.*)", re.DOTALL)
ACCEPTED_NAMES = ", ".join(ACCEPTED_SCHEMES)

# A generated password: 4 groups of 5 from 31 unambiguous characters (no 0/o, 1/l/i): 99
# bits, easy to read out and type.
GENERATED_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
GENERATED_GROUPS = 4

# Spreadsheets run a cell starting with one of these as a formula (CSV injection); OWASP
# advises a leading ' so it is shown as text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


# Where a line's password comes from.
GENERATED, GIVEN, IMPORTED = "generated", "given", "imported"


@dataclass(frozen=True)
class LineError:
    line: int  # the header is line 1; 0: the file as a whole
    message: str


@dataclass
class ImportLine:
    """One mailbox of the CSV, as the preview shows it."""

    line: int
    address: str
    display_name: str = ""
    quota_mb: int | None = None
    password: str = field(default="", repr=False)  # as given: never shown, never logged
    source: str = ""  # where its password comes from: GENERATED, GIVEN or IMPORTED
    errors: list[str] = field(default_factory=list)
    local: str = ""
    domain: str = ""  # the A-label

    @property
    def what_happens(self) -> str:
        """The preview's words for this line."""
        if self.errors:
            return "Not imported"
        if self.source == IMPORTED:
            return f"Added with its {self.password.partition('}')[0][1:]} hash"
        if self.source == GIVEN:
            return "Added with the password given"
        return "Added with a generated password"


@dataclass
class MailboxImport:
    """What an import did (or, in a dry run, would do)."""

    lines: list[ImportLine]
    errors: list[LineError]
    dry_run: bool
    created: int = 0
    # address -> password, shown once after saving and then forgotten.
    generated_passwords: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return not self.errors


# --- import ------------------------------------------------------------------------------


def import_mailboxes(
    actor: Account, csv_text: object, *, dry_run: bool, request=None
) -> MailboxImport:
    """Check every line of a mailbox CSV; unless dry_run and when no line is wrong, create them
    all in one transaction (all or none) and log one event. Generated passwords are returned
    once, never stored in clear."""
    require(actor, "users", Level.EDIT)
    lines, file_errors = _parsed(csv_text)
    to_hash = sum(line.source in (GENERATED, GIVEN) for line in lines)
    if to_hash > MAX_PASSWORDS_TO_HASH:
        file_errors.append(
            LineError(
                WHOLE_FILE,
                f"{to_hash:,} lines have a password for the panel to hash (given or generated); "
                f"one import hashes at most {MAX_PASSWORDS_TO_HASH:,}, about 25 ms each. Import "
                "the file in parts, or give Dovecot hashes such as {SHA512-CRYPT}… instead.",
            )
        )
    if not file_errors:
        _check_addresses(actor, lines)
    result = MailboxImport(lines=lines, errors=_errors(file_errors, lines), dry_run=dry_run)
    if dry_run or not result.ok:
        return result
    generated = _create(actor, lines, request)
    if generated is None:  # an address was taken meanwhile: check again, say which
        _check_addresses(actor, lines)
        errors = _errors([], lines) or [LineError(WHOLE_FILE, "An address was taken meanwhile.")]
        return MailboxImport(lines=lines, errors=errors, dry_run=False)
    result.created, result.generated_passwords = len(lines), generated
    return result


def generated_password() -> str:
    """A random password (99 bits) that passes the password rules and reads out clearly."""
    groups = (
        "".join(secrets.choice(GENERATED_ALPHABET) for _ in range(5))
        for _ in range(GENERATED_GROUPS)
    )
    return "-".join(groups)


def imported_hash(raw: str) -> str:
    """The hash in Dovecot's form `{SCHEME}…` when it is of an accepted scheme and shape, else
    Invalid. Weak and plain-text schemes are refused: the panel never stores those."""
    match = SCHEME.fullmatch(raw)
    if match is None:
        raise Invalid("password", "Write a password hash as {SCHEME} followed by the hash.")
    scheme, body = match.group(1).upper(), match.group(2)
    if scheme in WEAK_SCHEMES:
        raise Invalid(
            "password",
            f"{{{scheme}}} is plain text or a weak hash and is not imported. Import a "
            f"{ACCEPTED_NAMES} hash, or leave the password empty for a generated one.",
        )
    shape = ACCEPTED_SCHEMES.get(scheme)
    if shape is None:
        raise Invalid(
            "password", f"{{{scheme[:40]}}} is not a scheme the panel imports: {ACCEPTED_NAMES}."
        )
    if len(raw) > MAX_HASH_CHARS or not shape.fullmatch(body):
        raise Invalid("password", f"This is not a valid {scheme} hash.")
    return f"{{{scheme}}}{body}"


def is_imported_hash(password_hash: str) -> bool:
    """Whether a stored mailbox password is a hash imported in Dovecot's form (SPEC §16: to be
    re-hashed as Argon2id at its owner's next web sign-in)."""
    return password_hash.startswith("{")


def _parsed(csv_text: object) -> tuple[list[ImportLine], list[LineError]]:
    """The CSV's data lines (not yet checked against the database), or what stops reading it."""
    if not isinstance(csv_text, str):
        return [], [LineError(WHOLE_FILE, "Send the CSV as text.")]
    text = csv_text.removeprefix("\ufeff")  # the byte order mark spreadsheets write
    if len(text) > MAX_CSV_CHARS:
        return [], [LineError(WHOLE_FILE, f"The CSV is over {MAX_CSV_CHARS:,} characters.")]
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        return [], [LineError(line, "This line contains a NUL character.")]
    if not text.strip():
        return [], [LineError(1, "The CSV is empty: it needs the header " + ",".join(COLUMNS))]
    lines: list[ImportLine] = []
    try:
        records = _records(text)
        header_line, header = next(records)
        columns, error = _columns(header)
        if error:
            return [], [LineError(header_line, error)]
        for number, record in records:
            if len(lines) == MAX_LINES:
                message = f"The CSV has more than {MAX_LINES:,} mailboxes: import it in parts."
                return [], [LineError(number, message)]
            lines.append(_line(number, record, columns))
    except _Unreadable as unreadable:
        return [], [LineError(unreadable.line, unreadable.message)]
    if not lines:
        return [], [LineError(2, "The CSV has a header but no mailboxes.")]
    return lines, []


class _Unreadable(Exception):
    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line, self.message = line, message


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """(line where the record starts, its fields), blank lines skipped; a quoted field may span
    lines. Unbalanced quotes and overlong lines stop the reading."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    start = 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error:
            raise _Unreadable(start, "The quotes on this line are not balanced.") from None
        if sum(len(cell) for cell in record) > MAX_LINE_CHARS:
            raise _Unreadable(start, f"This line is over {MAX_LINE_CHARS:,} characters.")
        if record:
            yield start, record
        start = reader.line_num + 1


def _columns(header: list[str]) -> tuple[dict[str, int], str]:
    names = [name.strip().lower() for name in header]
    if sorted(names) != sorted(COLUMNS):
        expected = ",".join(COLUMNS)
        return {}, f"The header must name the columns {expected} (in any order), each once."
    return {name: names.index(name) for name in COLUMNS}, ""


def _unguarded(cell: str) -> str:
    # Undo the export's formula guard, so that an export imports as it was.
    if cell[:1] == "'" and cell[1:2] in FORMULA_STARTS:
        return cell[1:]
    return cell


def _line(number: int, record: list[str], columns: dict[str, int]) -> ImportLine:
    """One data line, its fields checked on their own (the database comes later)."""
    if len(record) != len(COLUMNS):
        shown = ImportLine(number, _unguarded(record[0].strip()) if record else "")
        message = f"This line has {len(record)} fields; the header has {len(COLUMNS)}."
        if any(SCHEME.match(cell) for cell in record):  # {ARGON2ID}$argon2id$v=19$m=…,t=…,p=…
            message += " (A password hash with commas goes in double quotes.)"
        shown.errors.append(message)
        return shown
    cell = {name: record[index] for name, index in columns.items()}
    line = ImportLine(number, _unguarded(cell["address"].strip()))
    try:
        line.local, line.domain = split_address(line.address)
    except Invalid as invalid:
        line.errors.append(invalid.message)
    line.display_name = _unguarded(cell["display_name"].strip())
    if len(line.display_name) > 200:
        line.errors.append("The display name has at most 200 characters.")
    quota = cell["quota_mb"].strip()
    if not quota:
        line.quota_mb = DEFAULT_QUOTA_MB
    elif quota.isascii() and quota.isdigit() and 1 <= int(quota) <= MAX_QUOTA_MB:
        line.quota_mb = int(quota)
    else:
        line.errors.append(f"The quota is a whole number of MB from 1 to {MAX_QUOTA_MB}.")
    _check_password(line, cell["password"])
    return line


def _check_password(line: ImportLine, raw: str) -> None:
    try:
        if raw == "":
            line.source = GENERATED
        elif SCHEME.fullmatch(raw):
            line.password = imported_hash(raw)
            line.source = IMPORTED
        else:
            line.password = checked_new_password(raw)
            line.source = GIVEN
    except Invalid as invalid:
        line.errors.append(invalid.message)


def _domain_ids(actor: Account, names: set[str]) -> dict[str, int]:
    """name -> id of the named domains the actor may see: others read as not existing."""
    query = scope.narrow(Domain.objects.filter(name__in=names), actor, "pk")
    return dict(query.values_list("name", "pk"))


def _check_addresses(actor: Account, lines: list[ImportLine]) -> None:
    """Existing domain, free address, once in the file: a few queries for the whole file."""
    domains = _domain_ids(actor, {line.domain for line in lines if line.domain})
    taken = {
        (local, domain): kind
        for kind, model in (("an alias", Alias), ("a mailbox", Mailbox))
        for local, domain in _lowered_addresses(
            model.objects.filter(domain_id__in=domains.values())
        )
    }
    first_line: dict[tuple[str, int], int] = {}
    for line in lines:
        if not line.domain or line.domain not in domains:
            if line.domain:
                line.errors.append(f"There is no domain {line.domain}. Add the domain first.")
            continue
        key = (line.local.lower(), domains[line.domain])
        if key in taken:
            line.errors.append(f"{line.address} is already {taken[key]}.")
        elif key in first_line:
            line.errors.append(f"{line.address} is already on line {first_line[key]}.")
        else:
            first_line[key] = line.line


def _lowered_addresses(query: QuerySet) -> QuerySet:
    return query.annotate(lowered=Lower("local_part")).values_list("lowered", "domain_id")


def _errors(file_errors: list[LineError], lines: list[ImportLine]) -> list[LineError]:
    return file_errors + [LineError(ln.line, message) for ln in lines for message in ln.errors]


def _create(actor: Account, lines: list[ImportLine], request) -> dict[str, str] | None:
    """Create every mailbox in one transaction; None when an address was taken meanwhile.

    Passwords are hashed before the transaction: Argon2id takes about 16 ms each, and a write
    transaction held for minutes would stall every other writer (on SQLite, all of them)."""
    generated: dict[str, str] = {}
    hashes = []
    for line in lines:
        if line.source == GENERATED:
            password = generated[f"{line.local}@{line.domain}"] = generated_password()
            hashes.append(make_password(checked_new_password(password), hasher="argon2"))
        elif line.source == GIVEN:
            hashes.append(make_password(line.password, hasher="argon2"))
        else:
            hashes.append(line.password)  # an imported hash, stored as Dovecot reads it
    try:
        with transaction.atomic():
            domains = _domain_ids(actor, {ln.domain for ln in lines})
            if _any_taken(lines, domains):
                return None
            # bulk_create skips Mailbox.save(): each owner is made here, in one statement too.
            owners = Person.objects.bulk_create(
                [Person(kind=PERSON_KIND) for _ in lines], batch_size=500
            )
            Mailbox.objects.bulk_create(
                [
                    Mailbox(
                        person=owner,
                        local_part=line.local,
                        domain_id=domains[line.domain],
                        display_name=line.display_name,
                        quota_mb=line.quota_mb,
                        password_hash=password_hash,
                        maildir=new_maildir(line.local, line.domain),
                    )
                    for line, password_hash, owner in zip(lines, hashes, owners, strict=True)
                ],
                batch_size=500,
            )
            audit.record(
                AuditEvent.MAILBOXES_IMPORTED,
                actor=actor,
                request=request,
                count=len(lines),
                generated_passwords=len(generated),
                imported_hashes=sum(ln.source == IMPORTED for ln in lines),
            )
    except IntegrityError:
        return None
    return generated


def _any_taken(lines: list[ImportLine], domains: dict[str, int]) -> bool:
    """Inside the transaction: has a domain gone or an address been taken since the check?"""
    if len(domains) < len({line.domain for line in lines}):
        return True
    wanted = {(line.local.lower(), domains[line.domain]) for line in lines}
    return any(
        address in wanted
        for model in (Mailbox, Alias)
        for address in _lowered_addresses(model.objects.filter(domain_id__in=domains.values()))
    )


# --- export ------------------------------------------------------------------------------


def export_csv(actor: Account) -> Iterator[str]:
    """Every live mailbox as CSV text, a line at a time (for a streamed download): the header
    row, then address, display name, an empty password and the quota.

    Cells are guarded against formulas (a leading '), which the import undoes."""
    require(actor, "users", Level.VIEW)  # now, not when the first line is read
    return _export_lines(scope.narrow(Mailbox.objects.select_related("domain"), actor))


def _export_lines(query: QuerySet[Mailbox]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(COLUMNS)
    query = query.order_by("domain__name", "local_part")
    for mailbox in query.iterator(chunk_size=500):
        cells = [mailbox.address, mailbox.display_name, "", str(mailbox.quota_mb)]
        yield writer.writerow([_formula_guarded(cell) for cell in cells])


def _formula_guarded(cell: str) -> str:
    return "'" + cell if cell[:1] in FORMULA_STARTS and cell else cell


class _Echo:
    def write(self, value: str) -> str:
        return value
