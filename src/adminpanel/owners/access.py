"""Who may open a page of My mailbox (SPEC §14): an owner's own session, nothing else."""

import functools
from urllib.parse import urlencode

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse

from adminpanel import clock
from adminpanel.login.confirm import is_recent
from adminpanel.owners import sessions
from adminpanel.owners.owner import Owner
from adminpanel.twofactor import interface as twofactor

WHY_ENDED = {
    "session_expired": "Your session ended 24 hours after you signed in. Please sign in again.",
    "session_idle": "Your session ended after an hour without activity. Please sign in again.",
    "sign_in_not_allowed": "Your session was ended: this mailbox can no longer sign in.",
}


REQUIRED = "Your mail administrator requires two-factor authentication: turn it on to continue."
# The rule that keeps an owner's 2FA on, in the 2FA page's hint and in the refusal of Disabled.
KEPT_ON = "Your mail administrator requires two-factor authentication for this mailbox"


def must_have_2fa(owner: Owner) -> bool:
    """The domain requires 2FA of its owners (SPEC §14) and this one has none yet."""
    return owner.mailbox.domain.require_owner_2fa and not twofactor.is_enabled(owner)


def owner_confirm_required(view):
    """After owner_required: a session that has not authenticated in the last 10 minutes goes
    to My mailbox's Confirm access first (SPEC §12, §14), which brings it back here."""

    @functools.wraps(view)
    def guarded(request, *args, **kwargs):
        if not is_recent(request, clock.now()):
            confirm = reverse("mailbox-confirm")
            return redirect(f"{confirm}?{urlencode({'next': request.get_full_path()})}")
        return view(request, *args, **kwargs)

    return guarded


def owner_required(view=None, *, gated: bool = True):
    """The view gets `request.owner` (owners.owner.Owner); anyone else goes to /mailbox/login
    (an Admin's session too: answered as not signed in). An owner who must have 2FA and has
    none reaches only the views marked gated=False (the 2FA pages)."""

    def wrap(view):
        @functools.wraps(view)
        def guarded(request, *args, **kwargs):
            mailbox, ended = sessions.signed_in_mailbox(request)
            if mailbox is None:
                if ended:
                    messages.info(request, WHY_ENDED[ended])
                login = reverse("mailbox-login")
                return redirect(f"{login}?{urlencode({'next': request.get_full_path()})}")
            request.owner = Owner(mailbox)
            if gated and must_have_2fa(request.owner):
                messages.warning(request, REQUIRED)
                return redirect("mailbox-2fa")
            return view(request, *args, **kwargs)

        return guarded

    return wrap(view) if view is not None else wrap
