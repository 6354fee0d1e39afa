"""Apply SOURCE's accepted action mapping (or accept --version N / the newest suggestion first with --accept)."""
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from curation.errors import ApplicationError
from curation.management.commands.suggest_mapping import source_lookup
from curation.models import ActionMapping
from curation.services.actions import action_mapping_accept, action_mapping_apply, action_mapping_apply_start


class Command(BaseCommand):
    help = "Rewrite SOURCE's assistant turns as canonical action calls under its accepted action mapping."

    def add_base_argument(self, parser: CommandParser, *args: str, **kwargs: object) -> None:
        if "--version" in args:  # --version here is the action mapping version, not Django's banner
            return
        super().add_base_argument(parser, *args, **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", help="source id or name")
        parser.add_argument("--version", type=int, help="action mapping version (default: accepted, or newest suggested with --accept)")
        parser.add_argument("--accept", action="store_true", help="accept the version first (recorded as a decision; the job is queued)")
        parser.add_argument("--by", help="username the acceptance is recorded under (required with --accept)")
        parser.add_argument("--queue", action="store_true", help="queue the job for a worker instead of running it here")

    def handle(self, *args: object, **options: object) -> None:
        source = source_lookup(str(options["source"]))
        mappings = ActionMapping.objects.filter(source=source)
        version = options["version"]
        assert version is None or isinstance(version, int)
        if version is not None:
            mapping = mappings.filter(version=version).first()
        elif options["accept"]:
            mapping = mappings.filter(status=ActionMapping.Status.SUGGESTED).order_by("-version").first()
        else:
            mapping = mappings.filter(status=ActionMapping.Status.ACCEPTED).first()
        if mapping is None:
            raise CommandError(f"{source.name} has no such action mapping version (suggest one with actions_suggest)")
        try:
            if options["accept"]:
                user = get_user_model().objects.filter(username=options["by"]).first() if options["by"] else None
                if user is None or not user.has_perm("curation.decide_mapping"):
                    raise CommandError("--by must name a user allowed to decide mappings")
                job = action_mapping_accept(mapping=mapping, by=user)
                self.stdout.write(f"accepted v{mapping.version}; queued job #{job.pk}")
                return
            if options["queue"]:
                job = action_mapping_apply_start(mapping=mapping, by=None)
                self.stdout.write(f"queued job #{job.pk}")
                return
            result = action_mapping_apply(mapping=mapping)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"{source.name} actions v{mapping.version}: {result['actions']} actions in {result['samples']} samples, "
                          f"{result['valid']} valid, {result['invalid']} failed validation, {result['unmapped']} unknown")
