"""Approve a subset (or take it back to draft) from the command line, as a named user."""
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from curation.models import Subset
from curation.selectors import subset_by_name_or_id
from curation.services.subsets import SubsetNotApprovable, subset_approve, subset_open_checks, subset_reopen


class Command(BaseCommand):
    help = "Approve a subset for export once nothing is open on it; --reopen takes it back to draft."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("subset", help="Subset name or id.")
        parser.add_argument("--by", required=True, help="Username recorded as the approver (needs curation.approve_subset).")
        parser.add_argument("--reopen", action="store_true", help="Take an approved subset back to draft.")
        parser.add_argument("--reason", default="", help="Why it is reopened (kept in the audit trail).")

    def handle(self, *args, **options) -> None:
        subset = _subset(options["subset"])
        user = get_user_model().objects.filter(username=options["by"]).first()
        if user is None:
            raise CommandError(f"no user named {options['by']!r}")
        if not user.has_perm("curation.approve_subset"):
            raise CommandError(f"{user.get_username()} may not approve subsets")
        try:
            if options["reopen"]:
                subset = subset_reopen(subset=subset, by=user, reason=options["reason"])
            else:
                subset = subset_approve(subset=subset, by=user)
        except SubsetNotApprovable as exc:
            lines = [str(exc), *(f"  - {check.message}" for check in exc.checks)]
            raise CommandError("\n".join(lines)) from exc
        self.stdout.write(f"{subset.name}: {subset.get_status_display().lower()}.")
        if not options["reopen"]:
            return
        for check in subset_open_checks(subset=subset):
            self.stdout.write(f"  open: {check.message}")


def _subset(key: str) -> Subset:
    subset = subset_by_name_or_id(key=key)
    if subset is None:
        raise CommandError(f"no subset with name or id {key!r}")
    return subset
