from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "adminpanel.audit"
    label = "audit"
