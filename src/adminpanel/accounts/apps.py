from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "adminpanel.accounts"
    label = "accounts"

    def ready(self) -> None:
        # Django stamps Account.last_login at every login: an UPDATE and a commit per login
        # (profiled: benchmarks/code.py) for a column the panel never reads; the audit log
        # records every login.
        from django.contrib.auth.signals import user_logged_in

        user_logged_in.disconnect(dispatch_uid="update_last_login")
