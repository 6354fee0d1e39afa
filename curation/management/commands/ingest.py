"""manage.py ingest PATH --source NAME: register (or reuse) a source and ingest it here, or enqueue it (--async)."""
import logging
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from curation.models import Job, Source
from curation.services.jobs import job_already_text, job_run_here
from curation.services.source_declaration import DECLARATION_FIELDS
from curation.services.sources import source_ingest_prepare, source_ingest_request, source_register


class _ProgressToStdout(logging.Handler):
    def __init__(self, command: BaseCommand) -> None:
        super().__init__(level=logging.INFO)
        self.command = command

    def emit(self, record: logging.LogRecord) -> None:
        self.command.stdout.write(record.getMessage())


class Command(BaseCommand):
    help = "Register (or reuse) a source and ingest it in this process, or enqueue the ingest with --async."

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", help="file or folder under an allowed data root")
        parser.add_argument("--source", required=True, help="the source's name (reused if it exists)")
        parser.add_argument("--format", default="auto", choices=Source.Format.values)
        parser.add_argument(
            "--image-root",
            metavar="DIR",
            default="",
            help="folder that relative image paths in the rows are resolved against (default: the data file's folder)",
        )
        parser.add_argument("--license", default="")
        parser.add_argument("--origin", default="")
        parser.add_argument("--citation", default="")
        parser.add_argument("--description", default="")
        parser.add_argument("--async", dest="run_async", action="store_true", help="enqueue for a worker instead")
        # The declaration of a source as published (see curation/services/source_declaration.py).
        parser.add_argument("--records-key", default="", help='JSON: key of the list of records; "*" = keyed by id')
        parser.add_argument("--id-column", default="id", help="JSON keyed by id: the column the key is kept in")
        parser.add_argument("--join-file", dest="join_location", default="", help="file joined to the records")
        parser.add_argument("--join-records-key", default="", help="where the joined file's records are")
        parser.add_argument("--join-on", dest="join_left_key", default="", help="this source's column to join on")
        parser.add_argument("--join-to", dest="join_right_key", default="", help="the joined file's matching column")
        parser.add_argument("--join-many", action="store_true", help="one-to-many: keep every match, as a list")
        parser.add_argument("--join-column", default="", help="column the match(es) go in; empty = merged")
        parser.add_argument("--image-pattern", default="", help="image file name from columns, e.g. {split}/{id}/{image}")
        parser.add_argument("--image-pattern-column", default="image")
        parser.add_argument("--label-origin", default="unknown", choices=Source.LabelOrigin.values)
        parser.add_argument("--task", dest="task_name", default="")

    def handle(self, *args, **options) -> None:
        source = self._source(options)
        if options["run_async"]:
            started = source_ingest_request(source=source)
            if not started.created:
                raise CommandError(f"{started.message} (manage.py job retry|cancel {started.job.pk})")
            self.stdout.write(started.message)
            return
        job, created = source_ingest_prepare(source=source)
        if not created:
            text = job_already_text(job, what=f"an ingest of {source.name}")
            raise CommandError(f"{text[:1].upper()}{text[1:]} (manage.py job retry|cancel {job.pk}).")
        handler = _ProgressToStdout(self)
        progress_logger = logging.getLogger("curation.services.ingest")
        progress_logger.addHandler(handler)
        propagate, progress_logger.propagate = progress_logger.propagate, False
        try:
            # The task's own body, called directly: the same service, synchronously, in this process.
            job_run_here(job=job)
        finally:
            progress_logger.removeHandler(handler)
            progress_logger.propagate = propagate
        job.refresh_from_db()
        source.refresh_from_db()
        summary = (
            f"{source.name}: {source.row_count:,} rows, {source.rejected_count:,} rejected, "
            f"{source.image_count:,} images; format {source.detected_format}, layout {source.layout or 'unknown'} "
            f"(job #{job.pk})"
        )
        for error in job.errors.all()[:20]:
            self.stdout.write(f"  rejected {error.location}: {error.message}")
        if job.state != Job.State.SUCCEEDED:
            raise CommandError(f"Ingest failed: {job.message or job.state}. {summary}")
        self.stdout.write(self.style.SUCCESS(summary))

    def _source(self, options) -> Source:
        existing = Source.objects.filter(name=options["source"]).first()
        location = str(Path(options["path"]).expanduser().resolve())
        if existing is not None:
            if existing.location != location:
                raise CommandError(f"Source {existing.name} exists with another location: {existing.location}")
            image_root = options["image_root"] and str(Path(options["image_root"]).expanduser().resolve())
            if image_root and existing.image_root != image_root:
                raise CommandError(
                    f"Source {existing.name} exists with another image folder: {existing.image_root or '(none)'}"
                )
            return existing
        try:
            return source_register(
                name=options["source"],
                location=location,
                format=options["format"],
                origin=options["origin"],
                license=options["license"],
                citation=options["citation"],
                description=options["description"],
                image_root=options["image_root"],
                declaration={name: options[name] for name in DECLARATION_FIELDS},
            )
        except ValidationError as exc:
            messages = "; ".join(f"{field}: {' '.join(errs)}" for field, errs in exc.message_dict.items())
            raise CommandError(messages) from exc
