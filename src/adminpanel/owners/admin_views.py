"""The Admin's side of mailbox owners (SPEC §14): Users → Edit → Reset 2FA, behind Users: Edit
and Confirm access, like a Sub-Admin's Reset 2FA."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from adminpanel.accounts.models import Level
from adminpanel.accounts.permissions import require
from adminpanel.errors import Refused
from adminpanel.login.confirm import confirm_access_required
from adminpanel.mail import selectors
from adminpanel.owners import services
from adminpanel.twofactor import interface as twofactor


@login_required
@confirm_access_required
@require_http_methods(["GET", "POST"])
def reset_2fa_view(request: HttpRequest, pk: int) -> HttpResponse:
    mailbox = selectors.get_mailbox(request.user, pk)
    require(request.user, "users", Level.EDIT)
    if request.method == "POST":
        try:
            services.reset_owner_2fa(request.user, mailbox, request=request)
        except Refused as refused:
            messages.info(request, refused.message)
        else:
            messages.success(request, f"2FA of {mailbox.address} was reset; its owner was told.")
        return redirect(f"/users/{mailbox.pk}")
    context = {
        "mailbox": mailbox,
        "enabled": twofactor.is_enabled(mailbox),
        "nothing_to_reset": services.nothing_to_reset(mailbox).message,
    }
    return render(request, "owners/reset_2fa.html", context)
