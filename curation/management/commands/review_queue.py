"""Fill a subset's review queue: `review_queue SUBSET --kind sample [--fraction 0.02 --seed 1] [--overlap 0.1]`."""
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from curation.errors import ApplicationError
from curation.models import Job, ReviewQueue, Subset
from curation.review.kinds import kinds_registered
from curation.selectors import subset_by_name_or_id
from curation.services.jobs import job_run_here
from curation.services.review_fill import review_fill_start


class Command(BaseCommand):
    help = "Queue a subset (all of it, or a seeded random share) for review, as a recorded Job."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("subset", help="subset name or id")
        parser.add_argument("--kind", default="sample", choices=[k.kind for k in kinds_registered()])
        parser.add_argument("--fraction", type=float, default=1.0, help="share of the subset to queue (default: all)")
        parser.add_argument("--seed", type=int, default=0, help="seed of the random share (same seed, same samples)")
        parser.add_argument("--overlap", type=float, default=None, help="share of items given to a second reviewer")
        parser.add_argument("--as-user", default="", help="username recorded as the one who queued it")
        parser.add_argument("--background", action="store_true", help="enqueue the Job for a worker instead of running it here")

    def handle(self, *args, **options) -> None:
        subset = self._subset(options["subset"])
        user = None
        if options["as_user"]:
            user = get_user_model().objects.filter(username=options["as_user"]).first()
            if user is None:
                raise CommandError(f"no user named {options['as_user']!r}")
        try:
            # The same service as the subset page's fill form: the queue (created with its audit row), its
            # overlap, and the Job; here the task body runs in this process unless --background.
            job = review_fill_start(
                kind=options["kind"], subset=subset, fraction=options["fraction"], seed=options["seed"],
                overlap_rate=options["overlap"], by=user, enqueue=options["background"],
            )
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        if options["background"]:
            self.stdout.write(f"queued job {job.pk}: follow it at /jobs/{job.pk}/")
            return
        job_run_here(job=job)
        job.refresh_from_db()
        queue = ReviewQueue.objects.get(pk=job.target_id)
        if job.state != Job.State.SUCCEEDED:
            raise CommandError(f"job {job.pk} {job.state}: {job.message}")
        result = job.result
        self.stdout.write(
            f"queue '{queue.name}' (#{queue.pk}): {result['picked']:,} of {result['targets']:,} targets picked, "
            f"{result['created']:,} new items (overlap {queue.overlap_rate:.0%}); job {job.pk}"
        )

    def _subset(self, ref: str) -> Subset:
        subset = subset_by_name_or_id(key=ref)
        if subset is None:
            raise CommandError(f"no subset named (or numbered) {ref!r}")
        return subset
