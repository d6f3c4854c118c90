from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "adminpanel.accounts"
    label = "accounts"
