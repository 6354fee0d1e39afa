"""Return review items whose claim lapsed to their queues (the beat task does it every minute)."""
from django.core.management.base import BaseCommand

from curation.services.review_claims import review_release_expired


class Command(BaseCommand):
    help = "Return review items whose lease has expired to their queues."

    def handle(self, *args, **options) -> None:
        released = review_release_expired()
        self.stdout.write(f"{released:,} lapsed claims returned to their queues")
