"""Sub-Admins pages (Admin only). Thin: subadmins.services holds the rules and the log."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from adminpanel.accounts.permissions import require_admin
from adminpanel.errors import Invalid
from adminpanel.login.confirm import confirm_access_required
from adminpanel.mail import scope
from adminpanel.pages import paginate, search_query, show_invalid
from adminpanel.sections import SECTIONS
from adminpanel.subadmins import services as subadmins
from adminpanel.subadmins.forms import SOME, SubAdminEditForm, SubAdminForm
from adminpanel.twofactor import interface as twofactor


def _saved(request: HttpRequest, account, warnings: list[str], verb: str) -> HttpResponse:
    messages.success(request, f"{verb} the Sub-Admin {account.username}.")
    for warning in warnings:
        messages.warning(request, warning)
    return redirect("subadmin-edit", pk=account.pk)


def _levels(account) -> list[str]:
    """ "Domains: View", … for each section the account may see at all."""
    return [f"{s.label}: {account.level(s.key).label}" for s in SECTIONS if getattr(account, s.key)]


@login_required
def list_view(request: HttpRequest) -> HttpResponse:
    search = search_query(request)
    page = paginate(request, subadmins.list_subadmins(request.user, search=search))
    rows = [
        {
            "account": a,
            "two_factor": twofactor.is_enabled(a),
            "methods": twofactor.method_names(a),
            "levels": _levels(a),
            "warnings": subadmins.warnings_for(a),
            "scope": scope.names(a),  # prefetched with the page: None for all domains
        }
        for a in page.object_list
    ]
    return render(request, "subadmins/list.html", {"page": page, "rows": rows, "q": search})


@login_required
@confirm_access_required
@require_http_methods(["GET", "POST"])
def add_view(request: HttpRequest) -> HttpResponse:
    require_admin(request.user)
    form = SubAdminForm(
        request.POST or None,
        domains=scope.all_domain_names(),
        chosen=request.POST.getlist("scope_domains"),
    )
    if request.method == "POST" and form.is_valid():
        try:
            account, warnings = subadmins.create_subadmin(
                request.user, **form.service_arguments(), request=request
            )
        except Invalid as error:
            show_invalid(form, error)
        else:
            return _saved(request, account, warnings, "Added")
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "subadmins/form.html", {"form": form, "adding": True}, status=status)


@login_required
@confirm_access_required
@require_http_methods(["GET", "POST"])
def edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    account = subadmins.get_subadmin(request.user, pk)
    if request.method == "POST":
        form = SubAdminEditForm(
            request.POST,
            domains=scope.all_domain_names(),
            chosen=request.POST.getlist("scope_domains"),
        )
        if form.is_valid():
            try:
                account, warnings = subadmins.update_subadmin(
                    request.user, account, **form.service_arguments(), request=request
                )
            except Invalid as error:
                show_invalid(form, error)
                account.refresh_from_db()
            else:
                return _saved(request, account, warnings, "Saved")
    else:
        chosen = scope.names(account)
        form = SubAdminEditForm(
            domains=scope.all_domain_names(),
            chosen=chosen,
            initial={
                "username": account.username,
                "active": account.is_active,
                "web_access": account.web_access,
                "api_access": account.api_access,
                "allowed_ips": "\n".join(account.allowed_ips),
                "require_2fa": account.require_2fa,
                "domains_scope": scope.ALL if chosen is None else SOME,
                "scope_domains": chosen or [],
                **{s.key: getattr(account, s.key) for s in SECTIONS},
            },
        )
    context = {"form": form, "subadmin": account, "two_factor": twofactor.is_enabled(account)}
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "subadmins/form.html", context, status=status)


@login_required
@confirm_access_required
@require_http_methods(["GET", "POST"])
def reset_2fa_view(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation; POST resets."""
    account = subadmins.get_subadmin(request.user, pk)
    if request.method == "GET":
        context = {"subadmin": account, "two_factor": twofactor.is_enabled(account)}
        return render(request, "subadmins/reset_2fa.html", context)
    subadmins.reset_subadmin_2fa(request.user, account, request=request)
    messages.success(
        request,
        f"2FA of {account.username} was reset: it can log in with its password and "
        "set up 2FA again.",
    )
    return redirect("subadmin-edit", pk=account.pk)


@login_required
@confirm_access_required
@require_http_methods(["GET", "POST"])
def delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    account = subadmins.get_subadmin(request.user, pk)
    if request.method == "POST":
        subadmins.delete_subadmin(request.user, account, request=request)
        messages.success(request, f"Deleted the Sub-Admin {account.username}.")
        return redirect("subadmins")
    return render(request, "subadmins/delete.html", {"subadmin": account})
