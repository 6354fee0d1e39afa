"""Export approved subsets from the command line: the export runs in this process, or with --queue on a worker."""
import argparse
import json

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from curation.errors import ApplicationError
from curation.exporters.registry import COLUMNS, FILTERS, FORMATS
from curation.exporters.runner import export_root
from curation.models import Export, Subset
from curation.selectors import subset_by_name_or_id
from curation.services.exports import export_create
from curation.services.jobs import job_run_here


class Command(BaseCommand):
    help = "Export approved subsets (Parquet, LLaVA JSONL or WebDataset) with a manifest of checksums."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("subsets", nargs="+", help="Subset names or ids.")
        parser.add_argument("--format", default="parquet", help=f"One of: {', '.join(FORMATS)}.")
        parser.add_argument(
            "--filters",
            default="{}",
            help=f'JSON object of filter params, e.g. \'{{"decision": {{"statuses": ["accepted"]}}}}\'. Filters: {", ".join(FILTERS)}.',
        )
        parser.add_argument("--columns", default="", help=f"Comma-separated extra column providers: {', '.join(COLUMNS)}.")
        parser.add_argument("--name", default="", help="A title for the export and its dataset card.")
        parser.add_argument("--by", default="", help="Username recorded as the creator.")
        parser.add_argument("--queue", action="store_true", help="Queue the export for a worker instead of writing it here.")
        # Writing here is the default now; --inline is still accepted from older scripts.
        parser.add_argument("--inline", action="store_true", help=argparse.SUPPRESS)

    def handle(self, *args, **options) -> None:
        subsets = [_subset(key) for key in options["subsets"]]
        try:
            filters = json.loads(options["filters"])
        except json.JSONDecodeError as exc:
            raise CommandError(f"--filters is not valid JSON: {exc}") from exc
        user = None
        if options["by"]:
            user = get_user_model().objects.filter(username=options["by"]).first()
            if user is None:
                raise CommandError(f"no user named {options['by']!r}")
        columns = [c.strip() for c in options["columns"].split(",") if c.strip()]
        try:
            export = export_create(
                subsets=subsets, format=options["format"], filters=filters, columns=columns, name=options["name"],
                by=user, enqueue=options["queue"],
            )
        except ApplicationError as exc:
            raise CommandError(str(exc)) from exc
        if options["queue"]:
            self.stdout.write(f"Export {export.pk} queued (job {export.job_id}); follow it at /exports/{export.pk}/.")
            return
        assert export.job is not None  # export_create always makes its job
        job_run_here(job=export.job)
        export.refresh_from_db()
        if export.state != Export.State.SUCCEEDED:
            job = export.job
            raise CommandError(f"export {export.pk} failed: {job.message if job is not None else export.state}")
        self.stdout.write(f"Export {export.pk}: {export.sample_count} samples in {export_root(export)}")
        for row in export.files.exclude(kind="image"):
            self.stdout.write(f"  {row.sha256}  {row.size:>12}  {row.name}")


def _subset(key: str) -> Subset:
    subset = subset_by_name_or_id(key=key)
    if subset is None:
        raise CommandError(f"no subset with name or id {key!r}")
    return subset
