"""A worker killed with SIGKILL while it applies a mapping: the job shows as stalled, a retry on the other worker
builds every sample and image link once, and the result equals an uncrashed apply (issue 13 item 6)."""
import pytest
from django.core.management import call_command

from curation.ingest.records import image_ref
from curation.mapping.spec import spec_from_dict
from curation.models import Job, JobAttempt, MappingStagedRow, Sample, SampleImage, SourceRow, Subset
from curation.services import job_kinds
from curation.services.jobs import job_create, job_run_here
from curation.services.mapping import mapping_accept, mapping_create_version
from tests.factories import image_make, source_make
from tests.jobs import broker_purge, job_wait_finished
from tests.workers import crash_workers

ROWS = 25_000
SPEC = {
    "subset": {"name": "crash-apply", "category": "general_vqa"},
    "images": [{"column": "image", "kind": "auto"}],
    "turns": {"mode": "template", "pairs": [{"user": "{question}", "assistant": "{answer}"}]},
    "filters": [],
}


def _samples(subset: Subset) -> list[tuple[int, int, list, list[str]]]:
    samples = Sample.objects.filter(subset=subset).order_by("row_number")
    links: dict[int, list[str]] = {}
    for sample_id, image_id in SampleImage.objects.filter(sample__subset=subset).order_by("sample_id", "position").values_list(
        "sample_id", "image_id"
    ):
        links.setdefault(sample_id, []).append(image_id)
    return [(s.pk, s.row_number, s.turns, links.get(s.pk, [])) for s in samples]


@pytest.mark.worker
def test_a_worker_killed_mid_apply_leaves_a_stalled_job_that_a_retry_finishes_with_every_sample_once(
    transactional_db, tmp_path, settings, curator, capsys
):

    broker_purge()
    images = [image_make().pk for _ in range(7)]
    source = source_make(name="crash-apply-source", columns={"question": "text", "answer": "text", "image": "image"},
                         row_count=ROWS)
    SourceRow.objects.bulk_create(
        [SourceRow(source=source, row_number=n, image_shas=[images[n % 7]],
                   data={"question": f"What is {n}?", "answer": str(n), "image": image_ref(images[n % 7])})
         for n in range(ROWS)],
        batch_size=10_000,
    )
    mapping = mapping_create_version(source=source, spec=spec_from_dict(SPEC, check=False), by=curator)
    job = mapping_accept(mapping=mapping, by=curator)  # queued on the cpu queue once this commits
    subset = Subset.objects.get(name="crash-apply")

    with crash_workers(tmp_path, settings, queues=[job_kinds.APPLY_MAPPING.queue]) as crash:
        crash.catch_midway(lambda: Job.objects.get(pk=job.pk))
        crash.kill_claimer(job)
        assert not Sample.objects.filter(subset=subset).exists()  # nothing is swapped in before the build ends
        assert 0 < MappingStagedRow.objects.filter(mapping=mapping).count() < ROWS

        crash.wait_stalled(job)
        capsys.readouterr()
        call_command("job", "stalled")
        assert f"Apply mapping #{job.pk} at {crash.done_at_kill:,}/{ROWS:,}: running as job" in capsys.readouterr().out
        call_command("job", "show", str(job.pk))
        assert "no heartbeat for" in capsys.readouterr().out
        call_command("job", "retry", str(job.pk))  # the other worker takes it
        job_wait_finished(job, 40)
        crash.report("apply_mapping")
    assert job.state == Job.State.SUCCEEDED, (job.state, job.done, job.message, job.attempts)
    assert job.attempts == 2 and job.done == ROWS and job.result["samples"] == ROWS
    outcomes = list(JobAttempt.objects.filter(job=job).order_by("number").values_list("outcome", flat=True))
    assert outcomes == ["lost", "succeeded"]
    crashed = _samples(subset)
    assert len(crashed) == ROWS and len({row for _, row, _, _ in crashed}) == ROWS
    assert SampleImage.objects.filter(sample__subset=subset).count() == ROWS
    assert crashed[-1][1:] == (ROWS - 1, [{"user": f"What is {ROWS - 1}?", "assistant": str(ROWS - 1)}], [images[(ROWS - 1) % 7]])
    assert not MappingStagedRow.objects.filter(mapping=mapping).exists()
    subset.refresh_from_db()
    assert subset.sample_count == ROWS

    # An uncrashed apply of the same version, in this process, gives the very same samples, ids and links.
    again = job_create(kind=job_kinds.APPLY_MAPPING.key, target=mapping, created_by=curator)
    assert job_run_here(job=again).state == Job.State.SUCCEEDED
    assert again.result["removed"] == 0
    assert _samples(subset) == crashed
