from django.apps import AppConfig


class OwnersConfig(AppConfig):
    name = "adminpanel.owners"
    label = "owners"
