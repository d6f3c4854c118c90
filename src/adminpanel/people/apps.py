from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "adminpanel.people"
    label = "people"
