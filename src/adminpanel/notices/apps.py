from django.apps import AppConfig
from django.db.models.signals import post_save

from adminpanel.notices.outbox import queue_notice


class NoticesConfig(AppConfig):
    name = "adminpanel.notices"
    label = "notices"

    def ready(self) -> None:
        # Every recorded event passes the catalogue, inside the transaction that records it.
        post_save.connect(
            queue_notice, sender=self.apps.get_model("audit", "Event"), dispatch_uid="notices"
        )
