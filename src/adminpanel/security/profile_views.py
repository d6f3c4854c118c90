"""Security → Profile. Thin: accounts.profile holds the rules and the log."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from adminpanel import clock
from adminpanel.accounts import profile
from adminpanel.errors import Invalid, Refused
from adminpanel.login.confirm import confirm_access_required
from adminpanel.net import client_ip
from adminpanel.pages import show_invalid
from adminpanel.security.forms import ProfileForm

LINK_SENT = (
    "A link was mailed to {address}. Your notices go there once you open it, signed in as "
    "this account, within 24 hours; until then they go where they went."
)


@login_required
@confirm_access_required(keep=("email", "allowed_ips"))
@require_http_methods(["GET", "POST"])
def profile_view(request: HttpRequest) -> HttpResponse:
    account = request.user
    admin = account.is_owner
    initial = {"email": account.email, "allowed_ips": "\n".join(account.allowed_ips)}
    form = ProfileForm(request.POST or None, initial=initial, admin=admin)
    if request.method == "POST" and form.is_valid():
        try:
            saved = profile.update_profile(
                account,
                email=form.cleaned_data["email"],
                allowed_ips=form.cleaned_data["allowed_ips"] if admin else None,
                ip=client_ip(request),
                now=clock.now(),
                request=request,
            )
        except Invalid as error:
            show_invalid(form, error)
        else:
            if saved.changed:
                messages.success(request, "Your profile was saved.")
            if saved.link_sent_to:
                messages.info(request, LINK_SENT.format(address=saved.link_sent_to))
            if not (saved.changed or saved.link_sent_to):
                messages.success(request, "Nothing changed.")
            return redirect("profile")
    context = {
        "form": form,
        "ip": client_ip(request),
        "notices_enabled": settings.NOTICES_ENABLED,
        "allowed_ips": account.allowed_ips,
        "pending": profile.pending_email(account, clock.now()),
    }
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "security/profile.html", context, status=status)


@login_required
@require_GET
def confirm_email_view(request: HttpRequest, token: str) -> HttpResponse:
    """The link mailed to a new address: opened by the account that asked, it takes effect."""
    try:
        address = profile.confirm_email_change(
            request.user, token, now=clock.now(), request=request
        )
    except Refused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, f"Your notices now go to {address}.")
    return redirect("profile")
