"""Scan SOURCE's assistant turns and store a suggested action mapping: what the page's suggest button queues."""
from django.core.management.base import BaseCommand, CommandError, CommandParser

from curation.errors import ApplicationError
from curation.management.commands.suggest_mapping import source_lookup
from curation.services.actions import SUGGEST_ENGINES, action_mapping_suggest, action_mapping_suggest_start


class Command(BaseCommand):
    help = "Suggest an action mapping for SOURCE (id or name): every action signature with its proposed rule."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", help="source id or name")
        parser.add_argument("--engine", choices=SUGGEST_ENGINES, default="auto", help="rules, llm, or auto (llm when configured)")
        parser.add_argument("--queue", action="store_true", help="queue the job for a worker instead of running it here")

    def handle(self, *args: object, **options: object) -> None:
        source = source_lookup(str(options["source"]))
        engine = str(options["engine"])
        try:
            if options["queue"]:
                job = action_mapping_suggest_start(source=source, by=None, engine=engine)
                self.stdout.write(f"queued job #{job.pk}")
                return
            mapping = action_mapping_suggest(source=source, engine=engine)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        unmapped = [s for s, r in mapping.rules.items() if not r["target"]]
        self.stdout.write(f"{source.name} actions v{mapping.version}: {len(mapping.signatures)} signatures in "
                          f"{mapping.turns_scanned} turns, {len(unmapped)} cannot be mapped")
        for sig in mapping.signatures:
            rule = mapping.rules[sig["signature"]]
            target = rule["target"] or "(cannot map)"
            self.stdout.write(f"  {sig['count']:>6}  {sig['signature']}  ->  {target} {rule['params']} [{rule['coords']}]")
