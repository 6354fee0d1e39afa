"""Expiry: finished exports lose their files after the TTL; the row and manifest stay; command and task."""
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from curation.models import Export
from curation.services.exports import export_cleanup
from tests.factories import approved_subset_make, export_build_now
from workers.tasks.exports import exports_cleanup

pytestmark = pytest.mark.django_db


def test_a_finished_export_expires_after_the_configured_days(curator, settings):
    settings.FINECURATE_EXPORT_TTL_DAYS = 3
    export = export_build_now(subsets=[approved_subset_make(samples=2)], format="parquet", by=curator)
    root = Path(settings.MEDIA_ROOT) / "exports" / str(export.pk)
    assert export.expires_at - export.finished_at == timedelta(days=3)
    assert root.is_dir()

    assert export_cleanup(now=export.expires_at - timedelta(minutes=1)) == 0
    assert export_cleanup(now=export.expires_at + timedelta(minutes=1)) == 1

    export.refresh_from_db()
    assert export.state == Export.State.EXPIRED and export.manifest["counts"]["out"] == 2
    assert not root.exists() and not export.files.exists()
    assert export_cleanup(now=timezone.now() + timedelta(days=30)) == 0  # already expired: nothing to do


def test_the_cleanup_command_and_task_expire_due_exports(curator):
    first = export_build_now(subsets=[approved_subset_make(samples=1)], format="llava_jsonl", by=curator)
    second = export_build_now(subsets=[approved_subset_make(samples=1)], format="webdataset", by=curator)
    Export.objects.filter(pk__in=[first.pk, second.pk]).update(expires_at=timezone.now() - timedelta(seconds=1))
    Export.objects.filter(pk=second.pk).update(expires_at=timezone.now() + timedelta(days=1))

    out = StringIO()
    call_command("exports_cleanup", stdout=out)

    assert "1 export" in out.getvalue()
    assert Export.objects.get(pk=first.pk).state == Export.State.EXPIRED
    Export.objects.filter(pk=second.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert exports_cleanup() == 1
    assert not (Path(settings.MEDIA_ROOT) / "exports" / str(second.pk)).exists()
