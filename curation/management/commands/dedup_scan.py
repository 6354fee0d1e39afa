"""manage.py dedup_scan SUBSET... [--leak --benchmark NAME...] [--threshold T] [--wait]: the "Find duplicates" and
"Check leaks" buttons. Queues the scan for the workers (embedding on the gpu queue, search on cpu)."""
import time

from django.core.management.base import BaseCommand, CommandError, CommandParser

from curation.models import Benchmark, DuplicateScan, Subset
from curation.services.dedup import DedupInvalid, dedup_scan_start


class Command(BaseCommand):
    help = "Start a near-duplicate scan of subsets (or a leak check against benchmarks with --leak)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("subsets", nargs="+", help="subset ids or names")
        parser.add_argument("--leak", action="store_true", help="check leaks of benchmarks instead of duplicates")
        parser.add_argument("--benchmark", action="append", default=[], help="benchmark name (repeat; default: all)")
        parser.add_argument("--threshold", type=float)
        parser.add_argument("--engine")
        parser.add_argument("--wait", action="store_true", help="wait until the workers finish and print the result")

    def handle(self, *args: object, **options: object) -> None:
        subsets = []
        for ref in options["subsets"]:  # type: ignore[attr-defined]
            subset = Subset.objects.filter(pk=int(ref)).first() if str(ref).isdigit() else Subset.objects.filter(name=ref).first()
            if subset is None:
                raise CommandError(f"no subset {ref}")
            subsets.append(subset)
        names = [str(n) for n in options["benchmark"]]  # type: ignore[attr-defined]
        benchmarks = list(Benchmark.objects.filter(name__in=names)) if names else list(Benchmark.objects.all())
        try:
            scan = dedup_scan_start(
                kind="leak" if options["leak"] else "duplicate",
                subsets=subsets,
                benchmarks=benchmarks if options["leak"] else [],
                threshold=options["threshold"],  # type: ignore[arg-type]
                engine=options["engine"],  # type: ignore[arg-type]
            )
        except DedupInvalid as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{scan.get_kind_display()} scan #{scan.pk} queued")
        if not options["wait"]:
            return
        while scan.state not in (DuplicateScan.State.DONE, DuplicateScan.State.FAILED):
            time.sleep(1)
            scan.refresh_from_db()
        if scan.state == DuplicateScan.State.FAILED:
            raise CommandError(f"scan #{scan.pk} failed: {scan.message}")
        self.stdout.write(f"scan #{scan.pk}: {scan.vectors} vectors, {scan.candidates} candidates, {scan.flagged} flagged ({scan.index_kind})")
