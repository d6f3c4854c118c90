"""Security → API keys (SPEC §17): the Admin's list, Create API key (the key shown once) and
Revoke, behind Confirm access. Thin: accounts.api_keys holds the rules and the log."""

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from adminpanel import clock
from adminpanel.accounts import api_keys
from adminpanel.accounts.permissions import NotPermitted
from adminpanel.errors import Invalid
from adminpanel.login.confirm import confirm_access_required
from adminpanel.pages import paginate, show_invalid
from adminpanel.security.forms import ApiKeyForm

KEPT = ("name", "subadmin", "allowed_ips", "expires")  # typed before Confirm access, kept


def admin_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A Sub-Admin gets the 403 page at once, not Confirm access first."""

    @wraps(view)
    def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_owner:
            raise NotPermitted(api_keys.ADMIN_ONLY)
        return view(request, *args, **kwargs)

    return guarded


def _status(key, now) -> str:
    if key.revoked_at is not None:
        return "Revoked"
    return "Active" if key.is_live(now) else "Expired"


@login_required
@admin_only
@confirm_access_required
@require_GET
def list_view(request: HttpRequest) -> HttpResponse:
    page = paginate(request, api_keys.list_keys(request.user))
    now = clock.now()
    rows = [{"key": key, "status": _status(key, now)} for key in page.object_list]
    return render(request, "security/api_keys.html", {"page": page, "rows": rows})


@login_required
@admin_only
@confirm_access_required(keep=KEPT)
@require_http_methods(["GET", "POST"])
def create_view(request: HttpRequest) -> HttpResponse:
    subadmins = list(api_keys.subadmins_for_keys(request.user))
    form = ApiKeyForm(request.POST if request.method == "POST" else None, subadmins=subadmins)
    if request.method == "POST" and form.is_valid():
        try:
            created = api_keys.create_key(
                request.user,
                name=form.cleaned_data["name"],
                subadmin=form.cleaned_data["subadmin"],
                allowed_ips=form.cleaned_data["allowed_ips"],
                expires_at=form.expires_at(),
                now=clock.now(),
                request=request,
            )
        except Invalid as error:
            show_invalid(form, error)
        else:
            # Shown in this answer only: never in a session, a URL or a cache.
            response = render(
                request,
                "security/api_key_created.html",
                {"key": created.key, "record": created.record},
            )
            response["Cache-Control"] = "no-store"
            return response
    status = 400 if form.is_bound and form.errors else 200
    context = {"form": form, "has_subadmins": bool(subadmins)}
    return render(request, "security/api_key_form.html", context, status=status)


@login_required
@admin_only
@confirm_access_required
@require_http_methods(["GET", "POST"])
def revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    key = api_keys.get_key(request.user, pk)
    if request.method == "POST":
        if api_keys.revoke_key(request.user, key, now=clock.now(), request=request):
            messages.success(
                request, f"The API key “{key.name}” was revoked: it is refused from now on."
            )
        else:
            messages.info(request, f"The API key “{key.name}” was revoked already.")
        return redirect("api-keys")
    return render(request, "security/api_key_revoke.html", {"key": key})
