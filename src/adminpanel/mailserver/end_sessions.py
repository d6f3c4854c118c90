"""The panel's side of ending a mailbox's open IMAP sessions (issue 21 item 7): a request
written in the transaction of the change, carried out on the mail host (mailserver.sessions)."""

from datetime import timedelta

from adminpanel import clock
from adminpanel.mailserver.models import EndSessionsRequest, SessionsEnded

KEEP_DONE = timedelta(days=1)  # carried-out requests are forgotten after this


def request_end(*addresses: str) -> None:
    """Ask the mail host to end these mailboxes' open IMAP sessions (the caller's transaction:
    the mail host sees the request once the change is committed)."""
    now = clock.now()
    wanted = sorted({address.lower() for address in addresses if address})
    EndSessionsRequest.objects.bulk_create(
        [EndSessionsRequest(address=address, requested_at=now) for address in wanted]
    )
    old = SessionsEnded.objects.filter(ended_at__lt=now - KEEP_DONE)
    done = list(old.values_list("request_id", flat=True)[:500])
    EndSessionsRequest.objects.filter(pk__in=done).delete()
    old.filter(request_id__in=done).delete()
