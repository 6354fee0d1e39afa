"""Generate hard negatives: `generate_hard_negatives SUBSET [--ratio 10] [--attributes colour,count] [--engine builtin|llm]`."""
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from curation.engines import hardneg_lexicon as lex
from curation.models import Job
from curation.selectors import subset_by_name_or_id
from curation.services.hard_negatives import (
    DEFAULT_RATIO,
    ENGINES,
    HardNegativeError,
    hard_negatives_start,
)
from curation.services.jobs import job_run_here


class Command(BaseCommand):
    help = "Run the Generation -> Verification -> Correction hard-negative loop over a subset's captions, as a recorded Job."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("subset", help="subset name or id")
        parser.add_argument("--ratio", type=int, default=DEFAULT_RATIO, help="negatives per positive (default 10)")
        parser.add_argument("--attributes", default="", help=f"comma-separated, of: {', '.join(lex.ATTRIBUTE_KEYS)}")
        parser.add_argument("--engine", default="builtin", choices=ENGINES)
        parser.add_argument("--as-user", default="", help="username recorded as the one who started it")
        parser.add_argument("--background", action="store_true", help="enqueue the Job for a worker instead of running it here")

    def handle(self, *args, **options) -> None:
        subset = subset_by_name_or_id(key=options["subset"])
        if subset is None:
            raise CommandError(f"no subset named (or numbered) {options['subset']!r}")
        user = None
        if options["as_user"]:
            user = get_user_model().objects.filter(username=options["as_user"]).first()
            if user is None:
                raise CommandError(f"no user named {options['as_user']!r}")
        attributes = [a.strip() for a in options["attributes"].split(",") if a.strip()] or None
        try:
            job = hard_negatives_start(subset=subset, by=user, ratio=options["ratio"], attributes=attributes, engine=options["engine"],
                                       enqueue=options["background"])
        except HardNegativeError as exc:
            raise CommandError(exc.message) from exc
        if options["background"]:
            self.stdout.write(f"queued job {job.pk}: follow it at /jobs/{job.pk}/")
            return
        job_run_here(job=job)
        job.refresh_from_db()
        if job.state != Job.State.SUCCEEDED:
            raise CommandError(f"job {job.pk} {job.state}: {job.message}")
        self.stdout.write(f"subset '{subset.name}': {job.result['created']:,} negatives made over {job.result['samples']:,} samples; job {job.pk}")
        for attribute, counts in job.result["by_attribute"].items():
            self.stdout.write(f"  {attribute}: {counts['passed']:,} passed, {counts['rejected']:,} rejected by the verifier")
