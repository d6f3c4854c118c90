"""A mailbox's Forwarding and Automatic reply forms (SPEC §16), shown and saved the same way on
the Admin's Users → Edit page (mail.views) and the owner's My mailbox → Forwarding
(owners.views); each page keeps its own labels, buttons, messages and redirects."""

from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.http import HttpRequest

from adminpanel.accounts.models import Account
from adminpanel.errors import Invalid
from adminpanel.mail import leaving
from adminpanel.mail.forms import AutomaticReplyForm, ForwardingForm
from adminpanel.mail.models import Mailbox
from adminpanel.pages import show_invalid

REPLY_FIELDS = ["enabled", "subject", "text", "starts_on", "ends_on"]


@dataclass(frozen=True)
class LeavingForm:
    """One of the two forms: its name in the page's context, its class, the service saving it."""

    name: str
    form_class: type[forms.Form]
    save: Callable[..., object]


FORWARDING = LeavingForm("forwarding_form", ForwardingForm, leaving.set_forwarding)
AUTOMATIC_REPLY = LeavingForm("reply_form", AutomaticReplyForm, leaving.set_automatic_reply)


def forms_of(mailbox: Mailbox, *, editable: bool = True, **bound: forms.Form) -> dict:
    """Both forms for the page's context: the one posted (`bound`, with its errors) and the
    other with what is stored; disabled where the viewer may not edit."""
    forwarding = leaving.forwarding_of(mailbox)
    reply = leaving.automatic_reply_of(mailbox)
    found = {
        FORWARDING.name: bound.get(FORWARDING.name)
        or ForwardingForm(
            initial={
                "destinations": "\n".join(forwarding.destinations),
                "keep_copy": forwarding.keep_copy,
            }
        ),
        AUTOMATIC_REPLY.name: bound.get(AUTOMATIC_REPLY.name)
        or AutomaticReplyForm(initial={field: getattr(reply, field) for field in REPLY_FIELDS}),
    }
    if not editable:
        for form in found.values():
            for field in form.fields.values():
                field.disabled = True
    return found


def save(
    which: LeavingForm, data, mailbox: Mailbox, *, actor: Account | None, request: HttpRequest
) -> tuple[forms.Form, bool]:
    """The posted form and whether its service saved it (actor None: the owner); when not, the
    form holds the errors, the service's too."""
    form = which.form_class(data)
    if not form.is_valid():
        return form, False
    try:
        which.save(mailbox, **form.cleaned_data, actor=actor, request=request)
    except Invalid as error:
        show_invalid(form, error)
        return form, False
    return form, True
