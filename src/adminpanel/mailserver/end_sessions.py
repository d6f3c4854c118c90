"""The panel's side of ending a mailbox's open IMAP sessions (issue 21 item 7): a request
written in the transaction of the change, carried out on the mail host (mailserver.sessions)."""

from datetime import timedelta

from adminpanel import clock
from adminpanel.mailserver.models import EndSessionsRequest, SessionsEnded

# Requests are forgotten after this, carried out or not: each mail host acts on each request
# (there is no "done by all"), and a host down for longer has no sessions left to end anyway.
KEEP = timedelta(days=1)


def request_end(*addresses: str) -> None:
    """Ask the mail host to end these mailboxes' open IMAP sessions (the caller's transaction:
    the mail host sees the request once the change is committed)."""
    now = clock.now()
    wanted = sorted({address.lower() for address in addresses if address})
    EndSessionsRequest.objects.bulk_create(
        [EndSessionsRequest(address=address, requested_at=now) for address in wanted]
    )
    old = EndSessionsRequest.objects.filter(requested_at__lt=now - KEEP)
    done = list(old.values_list("pk", flat=True)[:500])
    SessionsEnded.objects.filter(request_id__in=done).delete()
    EndSessionsRequest.objects.filter(pk__in=done).delete()
