from django.apps import AppConfig
from django.db.models.signals import post_save

from adminpanel.ops import events


class OpsConfig(AppConfig):
    name = "adminpanel.ops"
    label = "ops"

    def ready(self) -> None:
        # Every audit event, whoever recorded it, is counted and logged once it is committed.
        post_save.connect(
            events.event_saved, sender="audit.Event", dispatch_uid="adminpanel.ops.events"
        )
