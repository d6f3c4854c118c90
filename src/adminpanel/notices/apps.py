from django.apps import AppConfig
from django.db.models.signals import post_save

from adminpanel.accounts.signals import email_confirmation_requested
from adminpanel.notices.outbox import queue_email_confirmation, queue_notice


class NoticesConfig(AppConfig):
    name = "adminpanel.notices"
    label = "notices"

    def ready(self) -> None:
        # Every recorded event passes the catalogue, inside the transaction that records it.
        post_save.connect(
            queue_notice, sender=self.apps.get_model("audit", "Event"), dispatch_uid="notices"
        )
        # A new notice e-mail's link: its token is never in an event, so it has its own signal.
        email_confirmation_requested.connect(queue_email_confirmation, dispatch_uid="notices")
