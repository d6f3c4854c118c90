"""Users → Deleted mailboxes: Restore, Purge now (SPEC §16). Thin: mail.deleted decides."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from adminpanel.accounts.models import Level
from adminpanel.accounts.permissions import can, require
from adminpanel.errors import Invalid
from adminpanel.mail import deleted
from adminpanel.pages import paginate, search_query
from adminpanel.sections import BY_KEY

LIST = "/users/deleted"


def _context(request: HttpRequest, **extra) -> dict:
    return {
        "section": BY_KEY["users"],
        "can_edit": can(request.user, "users", Level.EDIT),
        "can_delete": can(request.user, "users", Level.DELETE),
        **extra,
    }


@login_required
def list_view(request: HttpRequest) -> HttpResponse:
    search = search_query(request)
    page = paginate(request, deleted.deleted_mailboxes(request.user, search=search))
    for mailbox in page.object_list:
        mailbox.restorable = not deleted.is_due(mailbox)
    return render(request, "mail/deleted_list.html", _context(request, page=page, q=search))


@login_required
@require_POST
def restore_view(request: HttpRequest, pk: int) -> HttpResponse:
    mailbox = deleted.get_deleted(request.user, pk)
    try:
        restored = deleted.restore_mailbox(request.user, mailbox, request=request)
    except Invalid as error:
        messages.error(request, error.message)
        return redirect(LIST)
    messages.success(request, f"Restored the mailbox {restored} with its mail.")
    return redirect(f"/users/{restored.pk}")


@login_required
@require_http_methods(["GET", "POST"])
def purge_view(request: HttpRequest, pk: int) -> HttpResponse:
    mailbox = deleted.get_deleted(request.user, pk)
    require(request.user, "users", Level.DELETE)
    if request.method == "POST":
        deleted.purge_now(request.user, mailbox, request=request)
        messages.success(
            request, f"The mail of {mailbox} is removed from the mail server at its next purge."
        )
        return redirect(LIST)
    return render(request, "mail/confirm_purge.html", _context(request, obj=mailbox))
