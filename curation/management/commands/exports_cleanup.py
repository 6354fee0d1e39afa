"""Delete the files of exports past their expiry (the beat schedule runs the same service hourly)."""
from django.core.management.base import BaseCommand

from curation.services.exports import export_cleanup


class Command(BaseCommand):
    help = "Expire exports whose time is up: delete their files, keep their rows and manifests."

    def handle(self, *args, **options) -> None:
        count = export_cleanup()
        self.stdout.write(f"{count} export(s) expired.")
