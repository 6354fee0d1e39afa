"""Bring the admin, curator and reviewer groups up to date with the permissions they should hold."""
from django.core.management.base import BaseCommand

from curation.services.roles import roles_sync


class Command(BaseCommand):
    help = "Create or update the role groups (admin, curator, reviewer) and their permissions."

    def handle(self, *args, **options) -> None:
        for role, count in roles_sync().items():
            self.stdout.write(f"{role}: {count} permissions")
