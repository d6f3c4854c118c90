"""The menu: only the sections the logged-in account may see."""

from adminpanel.accounts.models import Level
from adminpanel.accounts.permissions import can
from adminpanel.login import gate
from adminpanel.sections import SECTIONS


def menu(request) -> dict:
    account = getattr(request, "user", None)
    if account is None or not account.is_authenticated:
        return {}
    if not account.is_owner and gate.gated(account):
        return {"menu_entries": []}  # it may reach only Security → 2FA (PolicyGateMiddleware)
    entries = [
        {"label": s.label, "url": s.url, "current": request.path.startswith(s.url)}
        for s in SECTIONS
        if can(account, s.key, Level.VIEW)
    ]
    if account.is_owner:
        entries.append(
            {
                "label": "Sub-Admins",
                "url": "/subadmins",
                "current": request.path.startswith("/subadmins"),
            }
        )
    return {"menu_entries": entries}
