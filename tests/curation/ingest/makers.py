"""Small source files written by tests into tmp_path: images made with Pillow, JSONL, JSON, Parquet, CSV.

Also role_groups_restore for transactional tests (see there).
"""
import importlib
import io
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from django.contrib.auth.models import Group, Permission
from PIL import Image as PILImage


def image_bytes(color: tuple[int, int, int] = (200, 30, 30), size: tuple[int, int] = (16, 12), fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", size, color).save(buffer, format=fmt)
    return buffer.getvalue()


def write_image(path: Path, color: tuple[int, int, int] = (200, 30, 30), size: tuple[int, int] = (16, 12)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = "JPEG" if path.suffix.lower() in (".jpg", ".jpeg") else "PNG"
    path.write_bytes(image_bytes(color, size, fmt))
    return path


def write_jsonl(path: Path, records: list[Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records))
    return path


def write_json(path: Path, value: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, indent=1))
    return path


def write_parquet(path: Path, table: dict[str, list[Any]], schema: pa.Schema | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(table, schema=schema), path, row_group_size=3)
    return path


HF_IMAGE = pa.struct([("bytes", pa.binary()), ("path", pa.string())])


def role_groups_restore() -> None:
    """Recreate the role groups of migration 0002 when an earlier transactional test's flush removed them.

    A flush keeps permissions (post_migrate re-creates them) but not rows written by data migrations, and
    serialized_rollback cannot help once Playwright runs: its event loop gives Django another connection object.
    """
    roles = importlib.import_module("curation.migrations.0002_roles")

    def perms(names: list[str]) -> list[Permission]:
        return [
            Permission.objects.get(content_type__app_label=label, codename=codename)
            for label, codename in (name.split(".") for name in names)
        ]

    for name, names in (("reviewer", roles.REVIEWER), ("curator", roles.CURATOR)):
        group, created = Group.objects.get_or_create(name=name)
        if created:
            group.permissions.set(perms(names))
    admin, created = Group.objects.get_or_create(name="admin")
    if created:
        admin.permissions.set(Permission.objects.all())
