"""manage.py scan_duplicates DIR [--against BENCH_DIR] [--threshold T] --output pairs.jsonl

Near-duplicates inside a folder of images (or leaks of BENCH_DIR into it), one JSON object a line:
{"a": path, "b": path, "similarity": float, "verify_score": float, "verified": bool}. Same engine, index,
verifier and decision rule as the scans the web app runs.
"""
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from curation.engines.sscd import ENGINE_NAMES
from curation.errors import ApplicationError
from curation.services.dedup_folder import dedup_scan_folder


class Command(BaseCommand):
    help = "Write the near-duplicate pairs of DIR (or its leaks of --against BENCH_DIR) to --output as JSON lines."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("dir", type=Path)
        parser.add_argument("--against", type=Path, help="a benchmark folder: report images of DIR that copy one of it")
        parser.add_argument("--threshold", type=float, help="cosine at which a pair is flagged without verification (default 0.95)")
        parser.add_argument("--verify-threshold", type=float, help="cosine from which candidates are verified (default 0.35)")
        parser.add_argument("--engine", choices=ENGINE_NAMES, help="embedding engine (default: SSCD int8 on ONNX Runtime)")
        parser.add_argument("--output", type=Path, required=True)

    def handle(self, *args: object, **options: object) -> None:
        threshold = options["threshold"]
        if threshold is not None and not 0.0 <= float(threshold) <= 1.0:  # type: ignore[arg-type]
            raise CommandError("--threshold must be between 0 and 1")
        unreadable: list[Path] = []
        output = Path(str(options["output"]))
        count = 0
        try:
            with output.open("w", encoding="utf-8") as handle:
                for pair in dedup_scan_folder(
                    folder=Path(str(options["dir"])),
                    against=Path(str(options["against"])) if options["against"] else None,
                    threshold=threshold,  # type: ignore[arg-type]
                    verify_threshold=options["verify_threshold"],  # type: ignore[arg-type]
                    engine=options["engine"],  # type: ignore[arg-type]
                    unreadable=unreadable,
                ):
                    handle.write(json.dumps(pair) + "\n")
                    count += 1
        except ApplicationError as exc:
            raise CommandError(str(exc)) from exc
        for path in unreadable:
            self.stderr.write(f"skipped unreadable image {path}")
        self.stdout.write(f"{count} pairs written to {output}")
