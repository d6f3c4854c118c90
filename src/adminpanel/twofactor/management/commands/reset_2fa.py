"""`adminpanel reset-2fa USERNAME`: the operator's way back in for a locked-out account."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from adminpanel.twofactor import interface as twofactor


class Command(BaseCommand):
    help = "Turn off 2FA for a locked-out account: it logs in with its password alone."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")

    def handle(self, *args, username: str, **options) -> None:
        # The Admin's and Sub-Admins' model (AUTH_USER_MODEL), without importing its package.
        account = get_user_model().objects.filter(username__iexact=username).first()
        if account is None:
            raise CommandError(f"No account named {username!r}.")
        twofactor.reset(account, actor_name="operator (command line)")
        self.stdout.write(
            f"2FA reset for {account.username}: it can log in with its password alone."
        )
