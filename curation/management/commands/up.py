"""Start FineCurate on one machine: migrate, load the demo, run a Celery worker (with beat) and the web server."""
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from curation.services.paths import allowed_roots, data_root_default_ensure
from curation.services.roles import roles_sync


class Command(BaseCommand):
    help = "Migrate, load the demo data, start a worker and serve the app (the README's first command)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--addr", default="127.0.0.1:8000", help="host:port to serve on")
        parser.add_argument("--no-demo", action="store_true", help="skip the demo users and sources")
        parser.add_argument("--no-worker", action="store_true", help="do not start a worker (one runs elsewhere)")

    def handle(self, *args, **options) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        roles_sync()
        self.stdout.write("Database is up to date.")
        try:
            default_root = data_root_default_ensure()
        except OSError as exc:
            raise SystemExit(f"Cannot make the default data root {allowed_roots()[0]}: {exc}") from exc
        self.stdout.write(f"Put source files in {default_root} and register them under Sources (Register a source).")
        others = [str(root) for root in allowed_roots()[1:]]
        if others:
            self.stdout.write("Sources may also be read from: " + ", ".join(others))
        worker = None if options["no_worker"] else self._start_worker()
        # A SIGTERM (from a service manager or a test) ends the server through the finally below.
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
        try:
            if not options["no_demo"]:
                call_command("demo_load", stdout=self.stdout)
            self.stdout.write(self.style.SUCCESS(f"FineCurate is at http://{options['addr']}/  (Ctrl-C stops it)"))
            call_command("runserver", options["addr"], use_reloader=False, use_threading=True)
        finally:
            if worker is not None:
                self._stop(worker)

    def _start_worker(self) -> subprocess.Popen:
        var = Path(settings.VAR_DIR)
        command = [
            sys.executable, "-m", "celery", "-A", "config", "worker",
            "--queues", "cpu,gpu,io", "--concurrency", "2", "--loglevel", "INFO",
            "--beat", "--schedule", str(var / "celerybeat-schedule"),
        ]  # fmt: skip
        log = (var / "worker.log").open("ab")
        worker = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
        time.sleep(0.5)
        if worker.poll() is not None:
            raise SystemExit(f"The worker exited at once; see {var / 'worker.log'}")
        self.stdout.write(f"Worker started (pid {worker.pid}); its log is {var / 'worker.log'}")
        return worker

    def _stop(self, worker: subprocess.Popen) -> None:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
