"""manage.py benchmark_register NAME --folder DIR | --source SOURCE | --npy VECTORS.npy --names NAMES.txt --engine E

Registers a benchmark and reads its images (or vectors) in this process: the same service and job as the page."""
from django.core.management.base import BaseCommand, CommandError, CommandParser

from curation.engines.sscd import ENGINE_NAMES
from curation.models import Job, Source
from curation.services.benchmarks import BenchmarkInvalid, benchmark_register
from curation.services.jobs import job_run_here


class Command(BaseCommand):
    help = "Register a benchmark from an image folder, an ingested source, or precomputed embeddings."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--folder")
        group.add_argument("--source", help="ingested source id or name")
        group.add_argument("--npy", help="vectors [n, 512] as .npy (with --names and --engine)")
        parser.add_argument("--names", default="")
        parser.add_argument("--engine", default="", choices=["", *ENGINE_NAMES])
        parser.add_argument("--split", default="test")
        parser.add_argument("--license", default="")
        parser.add_argument("--queue", action="store_true", help="queue the job for a worker instead of running it here")

    def handle(self, *args: object, **options: object) -> None:
        source = None
        if options["source"]:
            ref = str(options["source"])
            source = Source.objects.filter(pk=int(ref)).first() if ref.isdigit() else Source.objects.filter(name=ref).first()
            if source is None:
                raise CommandError(f"no source {ref}")
        mode = "folder" if options["folder"] else "source" if source else "npy"
        try:
            bench, job = benchmark_register(
                name=str(options["name"]), mode=mode, path=str(options["folder"] or options["npy"] or ""),
                names_path=str(options["names"]), source=source, engine=str(options["engine"]),
                split=str(options["split"]), license=str(options["license"]),
            )
        except BenchmarkInvalid as exc:
            raise CommandError(str(exc)) from exc
        if options["queue"]:
            self.stdout.write(f"benchmark {bench.name} registered; job #{job.pk} queued")
            return
        job_run_here(job=job)
        job.refresh_from_db()
        if job.state != Job.State.SUCCEEDED:
            raise CommandError(f"job #{job.pk} {job.state}: {job.message}")
        self.stdout.write(f"benchmark {bench.name}: {job.result}")
