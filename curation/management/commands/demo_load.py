"""Create the demo users (printing their logins) and register and ingest the demo sources."""
import json
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand
from django.db import transaction

from curation.models import Source
from curation.services.sources import source_ingest_start, source_register

DEMO_SOURCES = [
    {
        "name": "demo-llava",
        "file": "llava_demo.json",
        "description": "Twelve public-domain photographs with a question and a caption each, LLaVA layout.",
    },
    {
        "name": "demo-cauldron",
        "file": "cauldron_demo.parquet",
        "description": "The same photographs embedded in Parquet, Cauldron / FineVision layout.",
    },
    {
        "name": "demo-sharegpt",
        "file": "sharegpt_demo.jsonl",
        "description": "The same photographs with captions as ShareGPT / OpenAI messages.",
    },
    {
        "name": "demo-gui",
        "file": "gui_demo.jsonl",
        "description": "Drawn app screenshots with GUI agent steps in four action syntaxes (make_gui_demo.py).",
    },
]
DEMO_LICENSE = "CC0-1.0 / public domain"
DEMO_ORIGIN = "scikit-image sample data (skimage/data)"
DEMO_CITATION = "van der Walt et al., scikit-image: image processing in Python, PeerJ 2:e453 (2014)."
DEMO_USERS = [("admin", "admin"), ("curator", "curator"), ("reviewer", "reviewer")]


class Command(BaseCommand):
    help = "Create demo users (admin, curator, reviewer) and register and ingest the demo sources."

    def handle(self, *args, **options) -> None:
        logins = self._ensure_users()
        self._ensure_sources()
        self.stdout.write(self.style.SUCCESS("Demo logins (also in var/demo-logins.json):"))
        for username, password in logins.items():
            self.stdout.write(f"    {username:<9} password: {password}")

    def _ensure_users(self) -> dict[str, str]:
        store = Path(settings.VAR_DIR) / "demo-logins.json"
        known: dict[str, str] = json.loads(store.read_text()) if store.exists() else {}
        for username, role in DEMO_USERS:
            user = User.objects.filter(username=username).first()
            if user is None or username not in known:
                password = secrets.token_urlsafe(9)
                user = user or User(username=username)
                user.set_password(password)
                user.is_staff = role == "admin"
                user.is_superuser = role == "admin"
                user.save()
                known[username] = password
            user.groups.add(Group.objects.get(name=role))
        store.parent.mkdir(parents=True, exist_ok=True)
        store.write_text(json.dumps(known, indent=1))
        store.chmod(0o600)
        return {username: known[username] for username, _ in DEMO_USERS}

    def _ensure_sources(self) -> None:
        curator = User.objects.get(username="curator")
        for spec in DEMO_SOURCES:
            if Source.objects.filter(name=spec["name"]).exists():
                continue
            with transaction.atomic():
                source = source_register(
                    name=spec["name"],
                    location=str(Path(settings.FINECURATE_DEMO_DIR) / spec["file"]),
                    origin=DEMO_ORIGIN,
                    license=DEMO_LICENSE,
                    citation=DEMO_CITATION,
                    description=spec["description"],
                    by=curator,
                )
                source_ingest_start(source=source, by=curator)
            self.stdout.write(f"Registered {source.name}; its ingest is queued for the worker.")
