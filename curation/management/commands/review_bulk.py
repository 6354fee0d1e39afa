"""Decide every review item a filter selects, as the curator's bulk page does: count first, then confirm.

    review_bulk --kind sample --subset demo --state queued --verdict accept --by curator          # prints the count
    review_bulk --kind sample --subset demo --state queued --verdict accept --by curator --confirm 120 --wait
"""
import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from curation.errors import ApplicationError
from curation.models import Job, ReviewItem
from curation.review.kinds import kinds_registered
from curation.selectors import subset_by_name_or_id
from curation.services.review_bulk import UNDECIDED_STATES, ItemFilter, review_bulk_count, review_bulk_start

POLL_SECONDS = 1.0


class Command(BaseCommand):
    help = "Apply one verdict to every review item a filter selects (a Job on a worker, one audit row per item)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--kind", required=True, choices=[k.kind for k in kinds_registered()])
        parser.add_argument("--subset", default="", help="subset name or id")
        parser.add_argument("--queue", type=int, default=None, help="review queue id")
        parser.add_argument("--state", action="append", choices=ReviewItem.State.values, help="item states (repeatable)")
        parser.add_argument("--score-min", type=float, default=None)
        parser.add_argument("--score-max", type=float, default=None)
        parser.add_argument("--attribute", default="", help="an attribute the items must have")
        parser.add_argument("--attribute-value", default="", help="... with this value")
        parser.add_argument("--verdict", required=True, help="the verdict to apply, e.g. accept or reject")
        parser.add_argument("--reason", default="", help="the reason, for verdicts that need one")
        parser.add_argument("--note", default="")
        parser.add_argument("--by", required=True, help="username of the curator deciding")
        parser.add_argument("--confirm", type=int, default=None, help="the item count you confirm (printed by a first run)")
        parser.add_argument("--wait", action="store_true", help="wait for the worker to finish and print the outcome")

    def handle(self, *args, **options) -> None:
        user = get_user_model().objects.filter(username=options["by"], is_active=True).first()
        if user is None:
            raise CommandError(f"no active user named {options['by']!r}")
        subset = None
        if options["subset"]:
            subset = subset_by_name_or_id(key=options["subset"])
            if subset is None:
                raise CommandError(f"no subset with name or id {options['subset']!r}")
        try:
            item_filter = ItemFilter(
                kind=options["kind"],
                queue_id=options["queue"],
                subset_id=subset.pk if subset else None,
                states=tuple(options["state"] or UNDECIDED_STATES),
                score_min=options["score_min"],
                score_max=options["score_max"],
                attribute=options["attribute"],
                attribute_value=options["attribute_value"],
            )
            count = review_bulk_count(item_filter=item_filter)
            if options["confirm"] is None:
                self.stdout.write(f"The filter selects {count:,} items. Run again with --confirm {count} to decide them.")
                return
            job = review_bulk_start(
                item_filter=item_filter,
                verdict=options["verdict"],
                reason=options["reason"],
                note=options["note"],
                confirmed_count=options["confirm"],
                by=user,
            )
        except ApplicationError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Deciding {count:,} items in job {job.pk} (follow it at /jobs/{job.pk}/).")
        if options["wait"]:
            self._wait(job)

    def _wait(self, job: Job) -> None:
        while True:
            job.refresh_from_db()
            if job.is_finished:
                break
            time.sleep(POLL_SECONDS)
        if job.state != Job.State.SUCCEEDED:
            raise CommandError(f"job {job.pk} {job.state}: {job.message}")
        self.stdout.write(f"Done: {job.done:,} items decided. {job.result or ''}")
