"""My mailbox (SPEC §14): the owner's sign-in (the house's login views, given the owner's
page) and its pages. Thin: the rules are in owners (sessions, access) and the services they
call."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from adminpanel.login.views import LoginPage
from adminpanel.owners import selectors
from adminpanel.owners.access import owner_required
from adminpanel.owners.door import OWNERS

OWNER_PAGE = LoginPage(
    door=OWNERS,
    name_label="Email address",
    brand="My mailbox",
    login="mailbox-login",
    verify="mailbox-login-verify",
    cancel="mailbox-login-cancel",
    key="mailbox-login-key",
    passkey=None,
    next_within="/mailbox/",
)


# My mailbox's menu: (URL name, label).
MENU = [("mailbox-home", "Home")]


def _render(request: HttpRequest, template: str, context: dict, status: int = 200) -> HttpResponse:
    return render(request, template, {**context, "owner_menu": MENU}, status=status)


@owner_required
@require_GET
def home_view(request: HttpRequest) -> HttpResponse:
    mailbox = request.owner.mailbox
    used = selectors.storage_used(mailbox)
    quota = mailbox.quota_mb * 1024 * 1024
    context = {
        "mailbox": mailbox,
        "used": used,
        "quota": quota,
        "percent": min(100, round(100 * used / quota)) if used is not None and quota else None,
        "sign_ins": selectors.last_sign_ins(mailbox),
    }
    return _render(request, "owners/home.html", context)
