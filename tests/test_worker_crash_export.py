"""A worker killed with SIGKILL while it writes an export, in each layout: the export stays not ready while its job
is stalled, a retry on the other worker writes it again from an empty folder, and its files and checksums equal an
uncrashed export of the same subsets, with no file left over from the dead attempt (issue 13 item 6)."""
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.utils import timezone

from curation.exporters.runner import export_root, file_sha256
from curation.models import Export, Job, JobAttempt, Sample, SampleImage, Subset
from curation.services import job_kinds
from curation.services.exports import export_create
from tests.factories import export_build_now, image_make, mapping_make, source_make, subset_make
from tests.jobs import broker_purge, job_wait_finished
from tests.workers import crash_workers

SAMPLES = 10_000


def _approved_subset() -> Subset:
    """SAMPLES accepted samples, each with one of 20 small stored images, in an approved subset."""
    subset = subset_make(name="crash-export")
    source = source_make()
    mapping = mapping_make(source=source, subset=subset)
    images = [image_make() for _ in range(20)]
    samples = Sample.objects.bulk_create(
        [Sample(subset=subset, source=source, mapping=mapping, row_number=n, image_count=1, status=Sample.Status.ACCEPTED,
                turns=[{"user": f"What is shown in picture {n}?", "assistant": f"Square number {n}."}])
         for n in range(SAMPLES)],
        batch_size=5_000,
    )
    SampleImage.objects.bulk_create(
        [SampleImage(sample=s, image=images[n % 20], position=0) for n, s in enumerate(samples)], batch_size=5_000
    )
    Subset.objects.filter(pk=subset.pk).update(sample_count=SAMPLES, status=Subset.Status.APPROVED, approved_at=timezone.now())
    subset.refresh_from_db()
    return subset


def _on_disk(export: Export) -> set[str]:
    root = export_root(export)
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


@pytest.mark.worker
@pytest.mark.parametrize("fmt", ["parquet", "llava_jsonl", "webdataset"])
def test_a_worker_killed_mid_export_leaves_a_stalled_job_that_a_retry_writes_whole_with_the_same_checksums(
    transactional_db, tmp_path, settings, curator, curator_client, capsys, fmt
):

    broker_purge()
    subset = _approved_subset()
    export = export_create(subsets=[subset], format=fmt, by=curator)
    job = export.job

    with crash_workers(tmp_path, settings, queues=[job_kinds.EXPORT.queue]) as crash:
        crash.catch_midway(lambda: Job.objects.get(pk=job.pk))
        crash.kill_claimer(job)
        export.refresh_from_db()
        assert export.state == Export.State.RUNNING and _on_disk(export)  # half written, and not offered as ready

        crash.wait_stalled(job)
        assert curator_client.get(f"/api/exports/{export.pk}/").json()["state"] == "running"
        half = sorted(_on_disk(export))[0]
        refused = curator_client.get(f"/api/exports/{export.pk}/files/{half}")
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "export_not_ready"
        capsys.readouterr()
        call_command("job", "show", str(job.pk))
        assert "no heartbeat for" in capsys.readouterr().out
        call_command("job", "retry", str(job.pk))
        job_wait_finished(job, 40)
        crash.report(f"export {fmt}")
    assert job.state == Job.State.SUCCEEDED, (job.state, job.done, job.message, job.attempts)
    assert job.attempts == 2 and job.done == SAMPLES
    outcomes = list(JobAttempt.objects.filter(job=job).order_by("number").values_list("outcome", flat=True))
    assert outcomes == ["lost", "succeeded"]
    export.refresh_from_db()
    assert export.state == Export.State.SUCCEEDED and export.sample_count == SAMPLES
    files = {f.name: f for f in export.files.all()}
    # Every file on disk is one the export lists, once, and its stored checksum is that of its bytes now.
    assert _on_disk(export) == set(files)
    for name, row in files.items():
        assert file_sha256(Path(django_settings.MEDIA_ROOT) / row.storage_name) == row.sha256, name
    listed = {f["name"]: f["sha256"] for f in export.manifest["files"]}
    assert listed == {n: f.sha256 for n, f in files.items() if n in listed} and len(listed) == len(export.manifest["files"])

    # An uncrashed export of the same subset, in this process, has the same files with the same checksums.
    uncrashed = export_build_now(subsets=[subset], format=fmt, by=curator)
    assert {f.name: f.sha256 for f in uncrashed.files.exclude(name="manifest.json")} == {
        n: f.sha256 for n, f in files.items() if n != "manifest.json"
    }
    assert uncrashed.manifest["files"] == export.manifest["files"]
    assert uncrashed.manifest["counts"] == export.manifest["counts"]

