from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "adminpanel.api"
    label = "api"
