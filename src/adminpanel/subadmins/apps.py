from django.apps import AppConfig


class SubadminsConfig(AppConfig):
    name = "adminpanel.subadmins"
    label = "subadmins"
