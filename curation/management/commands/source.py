"""manage.py source show|edit|delete SOURCE: what deleting it would remove, change what is said about it, delete it."""
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser

from curation.errors import ApplicationError
from curation.models import Source
from curation.selectors import source_by_name_or_id
from curation.services.source_delete import SourceDeletePlan, source_delete, source_delete_plan
from curation.services.sources import source_update

# Options of `edit`, each a field of source_update.
EDIT_OPTIONS = ["name", "license", "origin", "citation", "description", "image_root", "label_origin", "task_name"]


class Command(BaseCommand):
    help = ("Show what deleting a source would remove (show), change its name, licence, citation or image folder "
            "(edit), or delete it with what goes with it (delete; --confirm when approved subsets or ready exports go).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["show", "edit", "delete"])
        parser.add_argument("source", help="Source name or id.")
        parser.add_argument("--by", help="Username recorded in the audit trail (edit, delete).")
        for option in EDIT_OPTIONS:
            parser.add_argument(f"--{option.replace('_', '-')}", dest=option)
        parser.add_argument("--license-unknown", dest="license_unknown", action="store_true", default=None,
                            help="Say on purpose that nobody knows the licence.")
        parser.add_argument("--confirm", action="store_true", help="Delete even when approved subsets or ready exports go.")

    def handle(self, *args: Any, **options: Any) -> None:
        source = source_by_name_or_id(key=options["source"])
        if source is None:
            raise CommandError(f"no source with name or id {options['source']!r}")
        try:
            if options["action"] == "show":
                self._show(source_delete_plan(source=source))
            elif options["action"] == "edit":
                fields = {k: options[k] for k in [*EDIT_OPTIONS, "license_unknown"] if options[k] is not None}
                if not fields:
                    raise CommandError("say what to change: " + ", ".join(f"--{o.replace('_', '-')}" for o in EDIT_OPTIONS))
                source = source_update(source=source, by=self._user(options, "curation.change_source"), **fields)
                self.stdout.write(f"{source.name}: saved.")
            else:
                name = source.name
                plan = source_delete(source=source, by=self._user(options, "curation.delete_source"),
                                     confirm=options["confirm"])
                self._show(plan, done=True)
                self.stdout.write(f"{name} deleted.")
        except ApplicationError as exc:
            raise CommandError(str(exc)) from exc

    def _user(self, options: dict[str, Any], perm: str) -> User:
        if not options["by"]:
            raise CommandError("--by USER is required: the change is recorded in the audit trail")
        user = get_user_model().objects.filter(username=options["by"]).first()
        if user is None:
            raise CommandError(f"no user named {options['by']!r}")
        if not user.has_perm(perm):
            raise CommandError(f"{user.get_username()} lacks {perm}")
        return user

    def _show(self, plan: SourceDeletePlan, *, done: bool = False) -> None:
        goes = "went" if done else "would go"
        source: Source = plan.source
        self.stdout.write(f"Deleting {source.name}: what {goes} with it")
        self.stdout.write(f"  {plan.rows:,} rows, {plan.mappings} mapping versions, {plan.action_mappings} action mappings")
        self.stdout.write(f"  {plan.samples:,} samples, {plan.ratings:,} ratings, {plan.hard_negatives:,} hard negatives, "
                          f"{plan.duplicate_pairs:,} duplicate and {plan.leak_pairs:,} leak pairs, "
                          f"{plan.review_items:,} review items")
        for loss in plan.subsets:
            what = "goes" if loss.goes else f"keeps {loss.other_samples:,} samples of other sources"
            self.stdout.write(f"  subset {loss.subset.name} ({loss.subset.get_status_display().lower()}): "
                              f"{loss.samples:,} samples; {what}")
        for export in plan.exports:
            self.stdout.write(f"  export {export.name or export.pk} ({export.get_state_display().lower()}) and its files")
        self.stdout.write(f"  kept: {plan.decisions_kept:,} decisions in the audit trail; {plan.images_kept:,} stored images "
                          "(manage.py images_cleanup removes those nothing uses)")
        for job in plan.running_jobs:
            self.stdout.write(f"  blocked by job #{job.pk} ({job.kind}, {job.state})")
        if plan.needs_confirmation and not done:
            self.stdout.write(f"  needs --confirm: {'; '.join(plan.confirm_because)}")
