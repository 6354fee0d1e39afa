"""Suggest a mapping for a source: the same service the page's button queues, run here (or queued with --queue)."""
from django.core.management.base import BaseCommand, CommandError, CommandParser

from curation.errors import ApplicationError
from curation.mapping.suggesters import ENGINES
from curation.models import Job, Mapping, Source
from curation.selectors import source_by_name_or_id
from curation.services import job_kinds
from curation.services.jobs import job_create, job_run_here
from curation.services.mapping import SourceNotReady, mapping_suggest_check, mapping_suggest_start


def source_lookup(value: str) -> Source:
    source = source_by_name_or_id(key=value)
    if source is None:
        raise CommandError(f"no source with id or name {value!r}")
    return source


class Command(BaseCommand):
    help = "Propose a mapping for SOURCE (id or name) and store it as a new suggested version."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", help="source id or name")
        parser.add_argument("--engine", choices=ENGINES, default="auto", help="which suggester (default: auto)")
        parser.add_argument("--queue", action="store_true", help="queue the job for a worker instead of running it here")

    def handle(self, *args: object, **options: object) -> None:
        source = source_lookup(str(options["source"]))
        engine = str(options["engine"])
        if options["queue"]:
            try:
                job = mapping_suggest_start(source=source, by=None, engine=engine)
            except ApplicationError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(f"queued job #{job.pk}")
            return
        try:
            mapping_suggest_check(source=source)  # the check the page and --queue make, before any job is written
        except SourceNotReady as exc:
            raise CommandError(str(exc)) from exc
        job = job_create(kind=job_kinds.SUGGEST_MAPPING.key, target=source, params={"engine": engine}, total=1)
        job_run_here(job=job)  # the task body, in this process: same job bookkeeping as a worker
        job.refresh_from_db()
        if job.state != Job.State.SUCCEEDED:
            raise CommandError(f"job #{job.pk} {job.state}: {job.message}")
        mapping = Mapping.objects.get(pk=job.result["mapping_id"])
        self.stdout.write(
            f"{source.name}: version {mapping.version} by {mapping.engine or 'hand'}, confidence {mapping.confidence}"
        )
        for reason in mapping.reasons:
            self.stdout.write(f"  - {reason['text']}")
