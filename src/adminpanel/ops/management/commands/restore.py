from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from adminpanel.ops.backup import BackupError, restore


class Command(BaseCommand):
    help = "Bring back a backup's database and keys; a database that holds data needs --force."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--force", action="store_true", help="replace a database that holds data"
        )

    def handle(self, *args, file: Path, force: bool, **options):
        try:
            keys = restore(file, force=force)
        except BackupError as error:
            raise CommandError(str(error), returncode=1) from error
        restored = ", ".join(keys) or "no key files"
        self.stdout.write(f"Restored the database and {restored} from {file}.")
