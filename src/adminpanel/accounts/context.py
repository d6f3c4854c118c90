"""The menu: only the sections the logged-in account may see."""

from adminpanel.accounts.models import Level
from adminpanel.accounts.permissions import can

MENU = [
    ("domains", "Domains", "/domains"),
    ("users", "Users", "/users"),
    ("aliases", "Aliases", "/aliases"),
    ("logs", "Logs", "/logs"),
]


def menu(request) -> dict:
    account = getattr(request, "user", None)
    if account is None or not account.is_authenticated:
        return {}
    entries = [
        {"label": label, "url": url, "current": request.path.startswith(url)}
        for section, label, url in MENU
        if can(account, section, Level.VIEW)
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
