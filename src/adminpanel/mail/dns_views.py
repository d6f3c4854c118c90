"""Domains → a domain → DNS records, with Rotate DKIM key and Remove old key (SPEC §15).
Thin: mail.dns lists the records, mail.dkim changes the keys."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from adminpanel.accounts.models import Level
from adminpanel.accounts.permissions import can
from adminpanel.errors import Refused
from adminpanel.mail import dkim, dns, selectors
from adminpanel.sections import BY_KEY


def _page(request: HttpRequest, pk: int) -> str:
    return f"/domains/{pk}/dns"


@login_required
def records_view(request: HttpRequest, pk: int) -> HttpResponse:
    domain = selectors.get_domain(request.user, pk)
    keys = dkim.keys_of(domain)
    context = {
        "section": BY_KEY["domains"],
        "domain": domain,
        "records": dns.records(domain),
        "signing_key": keys[0] if keys else None,
        "old_keys": keys[1:],
        "mail_host": settings.MAIL_HOST,
        "mail_host_unset": settings.MAIL_HOST == "localhost",
        "can_edit": can(request.user, "domains", Level.EDIT),
    }
    return render(request, "mail/dns_records.html", context)


@login_required
@require_POST
def rotate_view(request: HttpRequest, pk: int) -> HttpResponse:
    domain = selectors.get_domain(request.user, pk)
    try:
        key = dkim.rotate(request.user, domain, request=request)
    except Refused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(
            request,
            f"New DKIM key {key.selector}: mail from {domain} is signed with it from now on. "
            "Publish its record below at once; remove the old key in a few days.",
        )
    return redirect(_page(request, pk))


@login_required
@require_POST
def remove_old_key_view(request: HttpRequest, pk: int) -> HttpResponse:
    domain = selectors.get_domain(request.user, pk)
    removed = dkim.remove_old_keys(request.user, domain, request=request)
    if removed:
        messages.success(
            request,
            f"Removed the old DKIM key {', '.join(removed)}: delete its record at your DNS "
            "provider too.",
        )
    else:
        messages.info(request, f"{domain} has no old DKIM key.")
    return redirect(_page(request, pk))
