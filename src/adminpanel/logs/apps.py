from django.apps import AppConfig


class LogsConfig(AppConfig):
    name = "adminpanel.logs"
    label = "logs"
