from django.apps import AppConfig


class LoginConfig(AppConfig):
    name = "adminpanel.login"
    label = "login"
