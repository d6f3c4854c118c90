"""`adminpanel reset-2fa USERNAME`: the operator's way back in for a locked-out account."""

from django.core.management.base import BaseCommand, CommandError

from adminpanel.accounts.models import Account
from adminpanel.twofactor import interface as twofactor


class Command(BaseCommand):
    help = "Turn off 2FA for a locked-out account: it logs in with its password alone."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")

    def handle(self, *args, username: str, **options) -> None:
        account = Account.objects.filter(username__iexact=username).first()
        if account is None:
            raise CommandError(f"No account named {username!r}.")
        twofactor.reset(account, actor_name="operator (command line)")
        self.stdout.write(
            f"2FA reset for {account.username}: it can log in with its password alone."
        )
