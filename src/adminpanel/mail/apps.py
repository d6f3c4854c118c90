from django.apps import AppConfig


class MailConfig(AppConfig):
    name = "adminpanel.mail"
    label = "mail"
