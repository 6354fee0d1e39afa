"""Cancelling a job no worker runs (queued, or its worker died) leaves its target as a worker that saw the cancel
would: an export failed with its half-written files removed, a source no longer 'ingesting', a scan failed; a batch
cancelled alone fails its parent, and a retry of the parent finishes the work (issue 13 item 6)."""
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from curation.exporters.runner import export_root
from curation.models import DuplicateScan, Export, ExportFile, Job, JobAttempt, MappingStagedRow, Source
from curation.services.dedup import dedup_scan_start
from curation.services.exports import export_create
from curation.services.jobs import job_attempt_begin, job_claim, job_run_here
from curation.services.sources import source_ingest_start, source_register
from tests.curation.dedup.helpers import photo_subset
from tests.curation.ingest.makers import write_jsonl
from tests.factories import approved_subset_make

pytestmark = pytest.mark.django_db


def _dies(job: Job) -> Job:
    """A worker claims the job and is killed: running, with a heartbeat long silent and its attempt open."""
    claimed = job_claim(job_id=job.pk)
    assert claimed is not None
    job_attempt_begin(job=claimed, worker="host-a pid 7")
    past = timezone.now() - timedelta(minutes=10)
    Job.objects.filter(pk=job.pk).update(heartbeat_at=past, started_at=past)
    job.refresh_from_db()
    assert job.is_stalled
    return job


def test_cancelling_an_export_whose_worker_died_fails_it_and_removes_its_half_written_files(curator):
    export = export_create(subsets=[approved_subset_make(samples=2)], format="llava_jsonl", by=curator, enqueue=False)
    job = _dies(export.job)
    Export.objects.filter(pk=export.pk).update(state=Export.State.RUNNING)
    root = export_root(export)
    root.mkdir(parents=True)
    (root / "data.jsonl").write_text('{"id": 1, "conver')  # cut off where the worker died
    ExportFile.objects.create(export=export, name="data.jsonl", kind="data", storage_name="x", size=17, sha256="0" * 64)

    call_command("job", "cancel", str(job.pk))
    export.refresh_from_db()
    assert export.state == Export.State.FAILED and export.finished_at is not None
    assert not root.exists() and not export.files.exists()
    assert JobAttempt.objects.get(job=job).outcome == "lost"


def test_cancelling_a_queued_export_fails_it(curator):
    export = export_create(subsets=[approved_subset_make(samples=1)], format="parquet", by=curator, enqueue=False)
    call_command("job", "cancel", str(export.job_id))
    export.refresh_from_db()
    assert export.state == Export.State.FAILED


def test_cancelling_an_ingest_whose_worker_died_leaves_the_source_failed_not_ingesting(tmp_path):
    source = source_register(name="cut", location=str(write_jsonl(tmp_path / "cut.jsonl", [{"a": 1}, {"a": 2}])))
    job = source_ingest_start(source=source)
    source.refresh_from_db()
    assert source.status == Source.Status.INGESTING
    _dies(job)
    call_command("job", "cancel", str(job.pk))
    source.refresh_from_db()
    assert source.status == Source.Status.FAILED and source.row_count == 0


def test_cancelling_an_apply_whose_worker_died_drops_its_staged_rows(curator):
    from curation.mapping.spec import spec_from_dict
    from curation.services.mapping import mapping_accept, mapping_create_version
    from tests.curation.mapping import layouts

    source = layouts.source_with_rows("staged", [{"question": "Q?", "answer": "A."}])
    spec = {"subset": {"name": "staged", "category": "text_only"}, "images": [], "filters": [],
            "turns": {"mode": "template", "pairs": [{"user": "{question}", "assistant": "{answer}"}]}}
    mapping = mapping_create_version(source=source, spec=spec_from_dict(spec, check=False), by=curator)
    job = mapping_accept(mapping=mapping, by=curator, enqueue=False)
    MappingStagedRow.objects.create(mapping=mapping, row_number=0, turns=[{"user": "Q?", "assistant": "A."}], image_shas=[])
    _dies(job)
    call_command("job", "cancel", str(job.pk))
    assert not MappingStagedRow.objects.filter(mapping=mapping).exists()


def test_a_batch_cancelled_after_its_worker_died_fails_the_scan_and_a_retry_of_the_parent_finishes_it(curator):
    subset, _ = photo_subset()
    scan = dedup_scan_start(kind="duplicate", subsets=[subset], by=curator)
    parent = job_run_here(job=scan.embed_job)  # fans out into one embedding batch
    batch = Job.objects.get(parent=parent)
    _dies(batch)

    call_command("job", "cancel", str(batch.pk))  # the batch alone, as the job page of the batch offers
    parent.refresh_from_db()
    scan.refresh_from_db()
    assert parent.state == Job.State.FAILED and "1 of 1 batches were cancelled" in parent.message
    assert scan.state == DuplicateScan.State.FAILED

    call_command("job", "retry", str(parent.pk))
    batch.refresh_from_db()
    assert batch.state == Job.State.QUEUED
    while (queued := Job.objects.filter(state=Job.State.QUEUED, params__scan=scan.pk).order_by("pk").first()) is not None:
        job_run_here(job=queued)
    scan.refresh_from_db()
    parent.refresh_from_db()
    assert parent.state == Job.State.SUCCEEDED and scan.state == DuplicateScan.State.DONE, scan.message
    assert scan.flagged == 1


def test_cancelling_a_stalled_scan_job_fails_the_scan(curator):
    subset, _ = photo_subset()
    scan = dedup_scan_start(kind="duplicate", subsets=[subset], by=curator)
    parent = job_run_here(job=scan.embed_job)
    _dies(Job.objects.get(parent=parent))
    Job.objects.filter(pk=parent.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=10))  # nothing beats it
    assert Job.objects.get(pk=parent.pk).is_stalled
    call_command("job", "cancel", str(parent.pk))
    scan.refresh_from_db()
    assert scan.state == DuplicateScan.State.FAILED and "cancelled" in scan.message


def test_the_job_command_lists_the_stalled_jobs_with_the_ids_to_retry(curator, capsys):
    call_command("job", "stalled")
    assert "no stalled job" in capsys.readouterr().out
    export = export_create(subsets=[approved_subset_make(samples=1)], format="parquet", by=curator, enqueue=False)
    beating = export_create(subsets=[approved_subset_make(samples=1)], format="parquet", by=curator, enqueue=False)
    job = _dies(export.job)
    job_claim(job_id=beating.job_id)
    call_command("job", "stalled")
    out = capsys.readouterr().out
    assert f"Export #{job.pk} at 0: running as job #{job.pk}" in out and "1 stalled" in out
    assert f"#{beating.job_id} " not in out
    with pytest.raises(CommandError, match="say which job to retry"):
        call_command("job", "retry")
