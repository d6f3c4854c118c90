"""An account as a kind of person (people.kinds): what follows when its second factor changes.

Named in settings.PERSON_KINDS; twofactor calls it inside the change's transaction, under the
person's lock, so no session or token outlives the change (SPEC §4, §12).
"""

from django.http import HttpRequest

from adminpanel.accounts import web_sessions
from adminpanel.accounts.models import Account
from adminpanel.accounts.tokens import revoke_tokens
from adminpanel.people import kinds


class AccountKind:
    def protection_changed(
        self, who: Account, change: str, *, request: HttpRequest | None, actor: object | None
    ) -> None:
        # A session from before 2FA must not keep access it never proved; one from before a
        # change (a lost phone's, one that knew the old way in) must not outlive it.
        web_sessions.end_other_sessions(who, reason=change, request=request, actor=actor)
        if change == kinds.ENABLED:  # SPEC §4: its API login now fails, and so do its tokens
            revoke_tokens(who, "two_factor_enabled", request=request)
