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
from adminpanel.pages import keep_to_show_once, paginate, show_invalid, take_shown_once
from adminpanel.security.forms import ApiKeyForm

KEPT = ("name", "subadmin", "allowed_ips", "expires")  # typed before Confirm access, kept
CREATED = "api_key_created"  # the session slot of pages.keep_to_show_once
SHOWN_ALREADY = (
    "A new API key is shown only once, right after Create API key. A lost key cannot be shown "
    "again: revoke it and create another."
)


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
            # Post/Redirect/Get: a reload shows the key's page, it does not make a second key.
            # The key waits encrypted in the session until that page takes it, never in a URL.
            keep_to_show_once(request, CREATED, created.key, pk=created.record.pk)
            return redirect("api-key-created")
    status = 400 if form.is_bound and form.errors else 200
    context = {"form": form, "has_subadmins": bool(subadmins)}
    return render(request, "security/api_key_form.html", context, status=status)


@login_required
@admin_only
@require_GET
def created_view(request: HttpRequest) -> HttpResponse:
    """The new key, shown once: gone from the session as this page is drawn."""
    kept = take_shown_once(request, CREATED)
    if kept is None:
        messages.info(request, SHOWN_ALREADY)
        return redirect("api-keys")
    record = api_keys.get_key(request.user, kept["pk"])
    context = {"key": kept["secret"], "record": record}
    response = render(request, "security/api_key_created.html", context)
    response["Cache-Control"] = "no-store"
    return response


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
