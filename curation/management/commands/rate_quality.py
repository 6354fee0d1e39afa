"""Rate a subset's turns on the four quality axes with a judge: the same service as the page's "Rate quality".

    manage.py rate_quality SUBSET --judge builtin            # enqueue a job for the workers
    manage.py rate_quality SUBSET --judge builtin --now      # run it here, in this process
"""
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from curation.engines.judges_registry import JUDGES
from curation.errors import ApplicationError
from curation.models import Job, Subset
from curation.services.jobs import job_claim, job_fail, job_succeed
from curation.services.ratings import ratings_run, ratings_start


class Command(BaseCommand):
    help = "Rate every turn of a subset 1-5 on formatting, relevance, visual dependency and image-question correspondence."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("subset", help="subset name or id")
        parser.add_argument("--judge", default="builtin", choices=sorted(JUDGES), help="which judge rates (default: builtin)")
        parser.add_argument("--now", action="store_true", help="run the job in this process instead of a worker")

    def handle(self, *args: Any, **options: Any) -> None:
        key = options["subset"]
        subset = Subset.objects.filter(pk=int(key)).first() if key.isdigit() else Subset.objects.filter(name=key).first()
        if subset is None:
            raise CommandError(f"no subset {key!r}")
        try:
            job = ratings_start(subset=subset, judge=options["judge"], by=None, enqueue=not options["now"])
        except ApplicationError as exc:
            raise CommandError(str(exc)) from exc
        if not options["now"]:
            self.stdout.write(f"job {job.pk} queued: rating {subset.name} with the {options['judge']} judge")
            return
        claimed = job_claim(job_id=job.pk)
        if claimed is None:
            raise CommandError(f"job {job.pk} could not be claimed")
        try:
            totals = ratings_run(job=claimed)
        except ApplicationError as exc:
            job_fail(job=claimed, message=str(exc))
            raise CommandError(str(exc)) from exc
        job_succeed(job=claimed, result=claimed.result)
        claimed = Job.objects.get(pk=job.pk)
        self.stdout.write(
            f"job {job.pk}: rated {totals['turns']} turns of {totals['samples']} samples ({totals['ratings']} ratings, "
            f"{totals['failed']} failed, {claimed.error_count} rejected rows) with {claimed.result.get('engine')}"
        )
