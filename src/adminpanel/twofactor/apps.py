from django.apps import AppConfig


class TwofactorConfig(AppConfig):
    name = "adminpanel.twofactor"
    label = "twofactor"
