from django.apps import AppConfig
from django.db.models.signals import post_migrate

from adminpanel.mail import search


class MailConfig(AppConfig):
    name = "adminpanel.mail"
    label = "mail"

    def ready(self) -> None:
        post_migrate.connect(search.repair, sender=self)
