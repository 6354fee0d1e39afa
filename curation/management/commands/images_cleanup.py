"""Remove stored images nothing refers to any more (after a source is deleted; images are shared by content)."""
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from curation.services.images import ImagesInUse, images_cleanup


class Command(BaseCommand):
    help = ("Delete images no source row, sample or benchmark uses: their rows, embeddings, files and thumbnails. "
            "Refused while an ingest, apply or benchmark registration is unfinished.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Only count them.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            count = images_cleanup(dry_run=options["dry_run"])
        except ImagesInUse as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{count} unused image(s) {'found' if options['dry_run'] else 'removed'}.")
