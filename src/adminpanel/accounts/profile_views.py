"""Security → Profile. Thin: accounts.profile holds the rules and the log."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from adminpanel.accounts import profile
from adminpanel.accounts.confirm import confirm_access_required
from adminpanel.accounts.profile_forms import ProfileForm
from adminpanel.errors import Invalid
from adminpanel.net import client_ip
from adminpanel.pages import show_invalid


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
            changed = profile.update_profile(
                account,
                email=form.cleaned_data["email"],
                allowed_ips=form.cleaned_data["allowed_ips"] if admin else None,
                ip=client_ip(request),
                request=request,
            )
        except Invalid as error:
            show_invalid(form, error)
        else:
            messages.success(request, "Your profile was saved." if changed else "Nothing changed.")
            return redirect("profile")
    context = {
        "form": form,
        "ip": client_ip(request),
        "notices_enabled": settings.NOTICES_ENABLED,
        "allowed_ips": account.allowed_ips,
    }
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "accounts/profile.html", context, status=status)
