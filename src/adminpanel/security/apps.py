from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "adminpanel.security"
    label = "security"
