from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from adminpanel.ops.backup import BackupError, backup


class Command(BaseCommand):
    help = "Write the database and the data dir's keys into one archive (mode 0600)."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)

    def handle(self, *args, file: Path, **options):
        try:
            keys = backup(file)
        except BackupError as error:
            raise CommandError(str(error), returncode=1) from error
        except OSError as error:
            raise CommandError(f"Cannot write {file}: {error.strerror}.", returncode=1) from error
        self.stdout.write(f"Backup written to {file} (mode 0600): the database and {_keys(keys)}.")
        if "encryption_keys" not in keys:
            self.stdout.write(
                "The encryption keys come from ADMINPANEL_ENCRYPTION_KEYS, not the data dir: "
                "keep them in your secret store, without them no TOTP key can be read."
            )


def _keys(keys: list[str]) -> str:
    return "keys: " + ", ".join(keys) if keys else "no key files"
