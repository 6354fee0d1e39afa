"""Apply a source's accepted mapping (or --version N) to build its samples: the job the accept button queues."""
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from curation.errors import ApplicationError
from curation.management.commands.suggest_mapping import source_lookup
from curation.models import Job, Mapping
from curation.services.jobs import job_run_here
from curation.services.mapping import mapping_accept, mapping_apply_start


class Command(BaseCommand):
    help = "Build SOURCE's samples with its accepted mapping version (or --version N, accepting it with --accept)."

    def add_base_argument(self, parser: CommandParser, *args: str, **kwargs: object) -> None:
        # --version here is the mapping version, not Django's version banner.
        if "--version" in args:
            return
        super().add_base_argument(parser, *args, **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", help="source id or name")
        parser.add_argument("--version", type=int, help="mapping version (default: the accepted one)")
        parser.add_argument(
            "--accept", action="store_true",
            help="accept --version (default: the newest suggestion) first, recorded as a decision; then apply it"
        )
        parser.add_argument("--by", help="username the acceptance is recorded under (required with --accept)")
        parser.add_argument("--queue", action="store_true", help="queue the job for a worker instead of running it here")

    def handle(self, *args: object, **options: object) -> None:
        source = source_lookup(str(options["source"]))
        version = options["version"]
        assert version is None or isinstance(version, int)
        mappings = Mapping.objects.filter(source=source)
        if version is not None:
            mapping = mappings.filter(version=version).first()
            if mapping is None:
                raise CommandError(f"{source.name} has no mapping version {version}")
        elif options["accept"]:
            # Accepting without a version takes the newest suggestion still awaiting a decision.
            mapping = mappings.filter(status=Mapping.Status.SUGGESTED).order_by("-version").first()
            if mapping is None:
                raise CommandError(f"{source.name} has no suggested mapping to accept")
        else:
            mapping = mappings.filter(status=Mapping.Status.ACCEPTED).first()
            if mapping is None:
                raise CommandError(f"{source.name} has no accepted mapping; add --accept --by USER (or --version N)")
        try:
            job = self._job(mapping, options)
        except ApplicationError as exc:
            raise CommandError(str(exc)) from exc
        if options["queue"]:
            self.stdout.write(f"queued job #{job.pk}")
            return
        job_run_here(job=job)  # the task body, in this process: same job bookkeeping as a worker
        job.refresh_from_db()
        if job.state != Job.State.SUCCEEDED:
            raise CommandError(f"job #{job.pk} {job.state}: {job.message}")
        r = job.result
        self.stdout.write(
            f"{source.name} v{mapping.version}: {r['samples']} samples in subset #{r['subset_id']}, "
            f"{r['filtered']} filtered, {r['rejected']} rejected, {r['removed']} old samples removed"
        )

    def _job(self, mapping: Mapping, options: dict[str, object]) -> Job:
        if mapping.status == Mapping.Status.SUGGESTED:
            if not options["accept"]:
                raise CommandError(f"version {mapping.version} is not accepted; add --accept --by USER to accept it")
            user = get_user_model().objects.filter(username=options["by"]).first() if options["by"] else None
            if user is None or not user.has_perm("curation.decide_mapping"):
                raise CommandError("--by must name a user allowed to decide mappings")
            # The same acceptance as the page's; its apply job runs here unless --queue gives it to a worker.
            return mapping_accept(mapping=mapping, by=user, enqueue=bool(options["queue"]))
        if mapping.status != Mapping.Status.ACCEPTED:
            raise CommandError(f"version {mapping.version} is {mapping.status}; only the accepted version is applied")
        return mapping_apply_start(mapping=mapping, by=None, enqueue=bool(options["queue"]))
