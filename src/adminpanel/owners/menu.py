"""My mailbox's menu, for its pages' frame (owners/layout.html), by a context processor."""

from django.http import HttpRequest

# (URL name, label)
MENU = [
    ("mailbox-home", "Home"),
    ("mailbox-2fa", "2FA"),
    ("mailbox-app-passwords", "App passwords"),
    ("mailbox-password", "Password"),
    ("mailbox-sessions", "Sessions"),
    ("mailbox-activity", "Activity"),
    ("mailbox-leaving", "Forwarding"),
]


def owner_menu(request: HttpRequest) -> dict:
    """The menu on a page an owner opened (request.owner: owners.access)."""
    return {"owner_menu": MENU} if hasattr(request, "owner") else {}
