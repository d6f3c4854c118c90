"""Domains, Users (mailboxes) and Aliases pages. Thin: services check, validate and log."""

from collections.abc import Callable
from dataclasses import astuple, dataclass

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from adminpanel import clock
from adminpanel.accounts.models import Level
from adminpanel.accounts.permissions import can, require
from adminpanel.errors import Invalid
from adminpanel.mail import (
    alias_domains,
    app_passwords,
    leaving_forms,
    mailbox_csv,
    scope,
    selectors,
    services,
)
from adminpanel.mail import forms as mail_forms
from adminpanel.mail.addresses import domain_to_unicode
from adminpanel.pages import paginate, search_query, show_invalid
from adminpanel.sections import BY_KEY, Section


@dataclass(frozen=True)
class SectionPages(Section):
    """A section of managed data (key, label, nouns, URL) and what differs between its pages."""

    search: Callable
    get: Callable
    create: Callable
    update: Callable
    delete: Callable
    add_form: type[forms.Form]
    edit_form: type[forms.Form]
    initial: Callable  # object -> initial values of the edit form


def _alias_initial(alias):
    return {"destinations": "\n".join(alias.shown_destinations), "active": alias.active}


SECTIONS = {
    "domains": SectionPages(
        *astuple(BY_KEY["domains"]),
        selectors.domains,
        selectors.get_domain,
        services.create_domain,
        services.update_domain,
        services.delete_domain,
        mail_forms.DomainForm,
        mail_forms.DomainEditForm,
        lambda d: {
            "catch_all": d.catch_all,
            "active": d.active,
            "mail_apps_may_use_mailbox_password": d.mail_apps_may_use_mailbox_password,
            "require_owner_2fa": d.require_owner_2fa,
        },
    ),
    "users": SectionPages(
        *astuple(BY_KEY["users"]),
        selectors.mailboxes,
        selectors.get_mailbox,
        services.create_mailbox,
        services.update_mailbox,
        services.delete_mailbox,
        mail_forms.MailboxForm,
        mail_forms.MailboxEditForm,
        lambda m: {
            "address": m.address,
            "display_name": m.display_name,
            "quota_mb": m.quota_mb,
            "active": m.active,
            "sign_in_allowed": m.sign_in_allowed,
        },
    ),
    "aliases": SectionPages(
        *astuple(BY_KEY["aliases"]),
        selectors.aliases,
        selectors.get_alias,
        services.create_alias,
        services.update_alias,
        services.delete_alias,
        mail_forms.AliasForm,
        mail_forms.AliasEditForm,
        _alias_initial,
    ),
}


def _context(request: HttpRequest, section: Section, **extra) -> dict:
    account = request.user
    return {
        "section": section,
        "can_edit": can(account, section.key, Level.EDIT),
        # A Sub-Admin limited to some domains adds none (SPEC §17): mailboxes and aliases, yes.
        "can_add": can(account, section.key, Level.EDIT)
        and not (section.key == "domains" and scope.is_limited(account)),
        "can_delete": can(account, section.key, Level.DELETE),
        **extra,
    }


@login_required
def list_view(request: HttpRequest, key: str) -> HttpResponse:
    section = SECTIONS[key]
    search = search_query(request)
    found = section.search(request.user, search=search)
    if key != "domains":  # in their domains' order: a deep page reads only its domains' rows
        found = selectors.listed(request.user, found, search=search)
    page = paginate(request, found)
    context = _context(request, section, page=page, q=search)
    if key == "domains":  # the alias domains are listed with the domains (SPEC §16)
        context["alias_domains"] = selectors.alias_domains(request.user, search=search)
    return render(request, f"mail/{key}_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def add_view(request: HttpRequest, key: str) -> HttpResponse:
    section = SECTIONS[key]
    require(request.user, key, Level.EDIT)
    if key == "domains":
        scope.refuse_adding_domains(request.user)
    picker = {} if key == "domains" else {"domains": selectors.domain_names(request.user, key)}
    form = section.add_form(request.POST or None, **picker)
    if request.method == "POST" and form.is_valid():
        try:
            created = section.create(request.user, **form.cleaned_data, request=request)
        except Invalid as error:
            show_invalid(form, error)
        else:
            messages.success(request, f"Added the {section.noun} {created}.")
            _warn_about_alias(request, key, created)
            return redirect(section.url)
    status = 400 if form.is_bound and form.errors else 200
    context = _context(request, section, form=form, adding=True)
    return render(request, "mail/form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def edit_view(request: HttpRequest, key: str, pk: int) -> HttpResponse:
    section = SECTIONS[key]
    obj = section.get(request.user, pk)
    if request.method == "POST":
        require(request.user, key, Level.EDIT)
        form = section.edit_form(request.POST)
        if form.is_valid():
            try:
                section.update(request.user, obj, **form.cleaned_data, request=request)
            except Invalid as error:
                show_invalid(form, error)
            else:
                messages.success(request, f"Saved the {section.noun} {obj}.")
                _warn_about_alias(request, key, obj)
                return redirect(section.url)
    else:
        form = section.edit_form(initial=section.initial(obj))
    if not can(request.user, key, Level.EDIT):
        for field in form.fields.values():
            field.disabled = True
    status = 400 if form.is_bound and form.errors else 200
    context = _context(request, section, form=form, obj=obj)
    if key == "users":
        context.update(leaving_forms.forms_of(obj, editable=context["can_edit"]))
    return render(request, "mail/form.html", context, status=status)


def _warn_about_alias(request: HttpRequest, key: str, obj) -> None:
    """An alias is saved even when a destination cannot receive; the page says which."""
    if key == "aliases":
        for warning in selectors.alias_warnings(obj):
            messages.warning(request, warning)


def _save_leaving(request: HttpRequest, pk: int, which: leaving_forms.LeavingForm, saved: str):
    """POST of one of the two leaving-staff forms: save through the service, or show the
    edit page again with this form's errors (400)."""
    section = SECTIONS["users"]
    mailbox = section.get(request.user, pk)
    require(request.user, "users", Level.EDIT)
    form, done = leaving_forms.save(
        which, request.POST, mailbox, actor=request.user, request=request
    )
    if done:
        messages.success(request, f"{saved} for {mailbox}.")
        return redirect(f"{section.url}/{mailbox.pk}")
    context = _context(
        request, section, form=section.edit_form(initial=section.initial(mailbox)), obj=mailbox
    )
    context.update(leaving_forms.forms_of(mailbox, **{which.name: form}))
    return render(request, "mail/form.html", context, status=400)


@login_required
@require_http_methods(["POST"])
def forwarding_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _save_leaving(request, pk, leaving_forms.FORWARDING, "Saved the forwarding")


@login_required
@require_http_methods(["POST"])
def automatic_reply_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _save_leaving(request, pk, leaving_forms.AUTOMATIC_REPLY, "Saved the automatic reply")


@login_required
@require_http_methods(["POST"])
def revoke_app_passwords_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Users: Edit → Revoke app passwords (SPEC §14)."""
    section = SECTIONS["users"]
    mailbox = section.get(request.user, pk)
    revoked = app_passwords.revoke_all_app_passwords(mailbox, actor=request.user, request=request)
    if revoked:
        messages.success(
            request,
            f"Revoked {revoked} app password{'s' if revoked != 1 else ''} of {mailbox}: mail "
            "apps can no longer sign in with them. The owner was told at the mailbox's address.",
        )
    else:
        messages.info(request, f"{mailbox} has no app passwords to revoke.")
    return redirect(f"{section.url}/{mailbox.pk}")


@login_required
@require_http_methods(["GET", "POST"])
def delete_view(request: HttpRequest, key: str, pk: int) -> HttpResponse:
    section = SECTIONS[key]
    obj = section.get(request.user, pk)
    require(request.user, key, Level.DELETE)
    error = None
    if request.method == "POST":
        form = mail_forms.DeleteForm(request.POST)
        cascade = form.is_valid() and form.cleaned_data["cascade"]
        options = {"cascade": cascade} if key == "domains" else {}
        try:
            section.delete(request.user, obj, **options, request=request)
        except Invalid as invalid:
            error = invalid.message
        else:
            kept = (
                f" Its mail is kept for {settings.MAIL_RETENTION_DAYS} days: Deleted mailboxes "
                "can restore it."
                if key == "users"
                else ""
            )
            messages.success(request, f"Deleted the {section.noun} {obj}.{kept}")
            return redirect(section.url)
    context = _context(request, section, obj=obj, error=error)
    context["retention_days"] = settings.MAIL_RETENTION_DAYS
    if key == "domains":
        context["dependents"] = (
            obj.mailboxes.count(),
            obj.aliases.count(),
            obj.alias_domains.count(),
        )
    return render(request, "mail/confirm_delete.html", context, status=400 if error else 200)


# --- alias domains (on the Domains page, with the Domains section's levels) ---------------


@login_required
@require_http_methods(["GET", "POST"])
def add_alias_domain_view(request: HttpRequest) -> HttpResponse:
    require(request.user, "domains", Level.EDIT)
    scope.refuse_adding_domains(request.user)
    names = selectors.domain_names(request.user, "domains")
    targets = [(name, domain_to_unicode(name)) for name in names]
    form = mail_forms.AliasDomainForm(request.POST or None, domains=targets)
    if request.method == "POST" and form.is_valid():
        try:
            created = alias_domains.create_alias_domain(
                request.user, **form.cleaned_data, request=request
            )
        except Invalid as error:
            show_invalid(form, error)
        else:
            messages.success(
                request, f"Added the alias domain {created}: its mail goes to {created.target}."
            )
            return redirect(SECTIONS["domains"].url)
    status = 400 if form.is_bound and form.errors else 200
    context = _context(request, SECTIONS["domains"], form=form)
    return render(request, "mail/alias_domain_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def delete_alias_domain_view(request: HttpRequest, pk: int) -> HttpResponse:
    alias_domain = selectors.get_alias_domain(request.user, pk)
    require(request.user, "domains", Level.DELETE)
    if request.method == "POST":
        alias_domains.delete_alias_domain(request.user, alias_domain, request=request)
        messages.success(request, f"Deleted the alias domain {alias_domain}.")
        return redirect(SECTIONS["domains"].url)
    context = _context(request, SECTIONS["domains"], obj=alias_domain)
    return render(request, "mail/alias_domain_confirm_delete.html", context)


# --- Users → Import CSV, Export CSV (SPEC §16) ----------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def import_view(request: HttpRequest) -> HttpResponse:
    """Preview (a dry run: every line and its errors), then Import: the same CSV posted again
    and checked again as a whole; the result page shows generated passwords once."""
    section = SECTIONS["users"]
    require(request.user, "users", Level.EDIT)
    form = mail_forms.MailboxImportForm(request.POST or None, request.FILES or None)
    if request.method != "POST" or not form.is_valid():
        status = 400 if form.is_bound else 200
        return render(
            request, "mail/users_import.html", {"section": section, "form": form}, status=status
        )
    confirmed = request.POST.get("step") == "import"
    result = mailbox_csv.import_mailboxes(
        request.user, form.cleaned_data["csv_text"], dry_run=not confirmed, request=request
    )
    context = {
        "section": section,
        "form": form,
        "result": result,
        "csv_text": form.cleaned_data["csv_text"],
    }
    if result.ok and not result.dry_run:
        return render(request, "mail/users_imported.html", context)
    return render(request, "mail/users_import.html", context, status=200 if result.ok else 400)


@login_required
def export_view(request: HttpRequest) -> HttpResponse:
    lines = mailbox_csv.export_csv(request.user)  # Users: View
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    stamp = clock.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="mailboxes-{stamp}.csv"'
    return response
