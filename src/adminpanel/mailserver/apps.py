from django.apps import AppConfig


class MailserverConfig(AppConfig):
    name = "adminpanel.mailserver"
    label = "mailserver"
    verbose_name = "Mail servers"
