"""/users/import and /users/export: mailboxes as CSV (SPEC §16; Users: Edit resp. View).

Mounted at /users before the users router, so that these paths are never read as an id. Its
schemas live here: they serve these two routes only.
"""

from django.http import HttpRequest, StreamingHttpResponse
from ninja import Router, Schema, Status
from pydantic import Field

from adminpanel import clock
from adminpanel.api.routers import ANY, actor
from adminpanel.api.schemas import Input, Text, responses
from adminpanel.mail import mailbox_csv
from adminpanel.mail.mailbox_csv import MailboxImport

router = Router(tags=["users"])


class ImportIn(Input):
    csv: Text = Field(
        description="The CSV text: a header row `address,display_name,password,quota_mb`, then "
        "one mailbox per line. An empty password is generated; `{SCHEME}…` is a password hash "
        f"Dovecot verifies ({mailbox_csv.ACCEPTED_NAMES}); anything else is the password.",
        examples=["address,display_name,password,quota_mb\nbob@example.com,Bob,,2048\n"],
    )
    dry_run: bool = Field(True, description="Check every line and save nothing.")


class LineErrorOut(Schema):
    line: int = Field(description="The line: the header is line 1; 0 is the file as a whole.")
    message: str


class ImportLineOut(Schema):
    line: int
    address: str
    display_name: str
    quota_mb: int | None
    what_happens: str = Field(description="e.g. `Added with a generated password`.")
    errors: list[str]


class ImportOut(Schema):
    errors: list[LineErrorOut] = Field(description="Empty when every line is right.")
    lines: list[ImportLineOut]
    created: int = Field(description="Mailboxes created (0 in a dry run).")
    generated_passwords: dict[str, str] = Field(
        description="address → generated password, in this answer only: shown once."
    )


class ImportRefusedOut(Schema):
    """422: a wrong line (every line's errors, nothing saved), or a body of the wrong shape
    (the usual error format, with `fields`)."""

    error: str = Field(description="`validation_error`.")
    message: str
    fields: dict[str, str] | None = None
    errors: list[LineErrorOut] = []
    lines: list[ImportLineOut] = []
    created: int = 0
    generated_passwords: dict[str, str] = {}


def _shaped(result: MailboxImport) -> dict:
    return {
        "errors": [{"line": e.line, "message": e.message} for e in result.errors],
        "lines": [
            {
                "line": line.line,
                "address": line.address,
                "display_name": line.display_name,
                "quota_mb": line.quota_mb,
                "what_happens": line.what_happens,
                "errors": line.errors,
            }
            for line in result.lines
        ],
        "created": result.created,
        "generated_passwords": result.generated_passwords,
    }


# Its 422 carries every line's errors, beyond the usual error format.
IMPORT_ERRORS = [status for status in ANY if status != 422]


@router.post(
    "/import",
    response=responses({200: ImportOut, 201: ImportOut, 422: ImportRefusedOut}, *IMPORT_ERRORS),
)
def import_users(request: HttpRequest, payload: ImportIn) -> Status:
    """Import mailboxes from CSV: all lines or none. A dry run answers the preview (200); a
    wrong line answers 422 with every line's errors, and nothing is saved."""
    result = mailbox_csv.import_mailboxes(
        actor(request), payload.csv, dry_run=payload.dry_run, request=request
    )
    if not result.ok:
        count = len(result.errors)
        message = f"{count} problem(s) in the CSV; nothing was saved. See errors."
        return Status(422, {"error": "validation_error", "message": message, **_shaped(result)})
    return Status(200 if result.dry_run else 201, _shaped(result))


@router.get("/export", response=responses({200: None}, *ANY))
def export_users(request: HttpRequest) -> StreamingHttpResponse:
    """Every mailbox as CSV (text/csv), the password column empty."""
    lines = mailbox_csv.export_csv(actor(request))
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    stamp = clock.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="mailboxes-{stamp}.csv"'
    return response
