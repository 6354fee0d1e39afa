"""Jobs survive their workers: a fresh heartbeat stops a second claim, a stalled job is retried (same id) to the
same result, Cancel stops a running job between batches, children's progress adds up on the parent."""
import time
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from annotate.templatetags.labels import job_title
from curation.models import Job, JobAttempt, Source, SourceRow
from curation.services import job_kinds
from curation.services.jobs import (
    JobNotRetryable,
    JobNotYours,
    job_attempt_begin,
    job_cancel,
    job_child_finished,
    job_children_progress,
    job_claim,
    job_create,
    job_fan_out,
    job_progress,
    job_retry,
    job_status_text,
)
from curation.services.sources import source_ingest_prepare, source_ingest_start, source_register
from tests.curation.ingest.makers import write_jsonl
from tests.jobs import job_wait_finished


def _stall(job: Job, minutes: float = 10) -> None:
    """What a worker killed mid-job leaves: running, with a heartbeat far in the past."""
    past = timezone.now() - timedelta(minutes=minutes)
    Job.objects.filter(pk=job.pk).update(state=Job.State.RUNNING, heartbeat_at=past, started_at=past - timedelta(minutes=2))
    JobAttempt.objects.filter(job=job).update(started_at=past - timedelta(minutes=2))
    job.refresh_from_db()


def _rows(source: Source) -> list[tuple[int, object]]:
    return list(SourceRow.objects.filter(source=source).order_by("row_number").values_list("row_number", "data"))


@pytest.mark.django_db
def test_a_fresh_heartbeat_stops_a_second_claim_and_a_stale_one_allows_it():
    job = job_create(kind=job_kinds.INGEST.key)
    first = job_claim(job_id=job.pk)
    assert first is not None and first.attempts == 1
    assert job_claim(job_id=job.pk) is None  # a redelivered copy while the first still beats
    _stall(job)
    assert job.is_stalled
    again = job_claim(job_id=job.pk)
    assert again is not None and again.attempts == 2 and not again.is_stalled


@pytest.mark.django_db
def test_a_stalled_job_is_described_with_its_heartbeat_and_offered_for_retry():
    job = job_create(kind=job_kinds.INGEST.key)
    job_claim(job_id=job.pk)
    job.refresh_from_db()
    assert "running as job" in job_status_text(job) and "retry" not in job_status_text(job)
    with pytest.raises(JobNotRetryable):
        job_retry(job=job)  # still beating: a retry would run it twice
    _stall(job, minutes=10)
    text = job_status_text(job)
    assert text.startswith(f"running as job #{job.pk}, started 12 min ago, no heartbeat for 10 min")
    assert text.endswith("retry or cancel it")


@pytest.mark.django_db
def test_only_curators_admins_and_the_creator_may_retry_or_cancel(reviewer, second_reviewer, curator, admin):
    job = job_create(kind=job_kinds.INGEST.key, created_by=reviewer)
    job_claim(job_id=job.pk)
    _stall(job)
    with pytest.raises(JobNotYours):
        job_retry(job=job, by=second_reviewer)
    with pytest.raises(JobNotYours):
        job_cancel(job=job, by=second_reviewer)
    assert job_retry(job=job, by=reviewer).state == Job.State.QUEUED
    assert job_cancel(job=job, by=curator)
    job.refresh_from_db()
    assert job.state == Job.State.CANCELLED
    assert job_retry(job=job, by=admin).state == Job.State.QUEUED


def test_a_stalled_ingest_is_retried_by_a_real_worker_to_the_same_rows(celery_worker_real, tmp_path, curator):
    records = [{"id": i, "question": f"q{i}", "answer": f"a{i}"} for i in range(300)]
    source = source_register(name="stalled", location=str(write_jsonl(tmp_path / "s.jsonl", records)), by=curator)
    first = job_wait_finished(source_ingest_start(source=source, by=curator))
    assert first.state == Job.State.SUCCEEDED
    before = _rows(source)
    assert len(before) == 300

    # A re-ingest whose worker died after its claim: running, a stale heartbeat, its attempt still open.
    job, created = source_ingest_prepare(source=source, by=curator)
    assert created
    claimed = job_claim(job_id=job.pk)
    assert claimed is not None
    job_attempt_begin(job=claimed, worker="dead-host pid 1")
    _stall(job)
    assert job.is_stalled

    retried = job_retry(job=job, by=curator)
    assert retried.pk == job.pk and retried.state == Job.State.QUEUED
    done = job_wait_finished(retried)
    assert done.pk == job.pk and done.state == Job.State.SUCCEEDED and done.attempts == 2
    after = _rows(source)
    assert after == before  # same rows, none twice
    assert SourceRow.objects.filter(source=source).values("row_number").distinct().count() == 300
    attempts = list(JobAttempt.objects.filter(job=job).order_by("number").values_list("number", "outcome"))
    assert attempts == [(1, "lost"), (2, "succeeded")]


def test_cancel_stops_a_running_ingest_between_batches(celery_worker_real, tmp_path, monkeypatch):
    from curation.services import ingest

    monkeypatch.setattr(ingest, "FLUSH_ROWS", 50)
    original = ingest._flush

    def slow_flush(run):  # a slow source: each batch takes a while, so there is time to cancel between them
        original(run)
        time.sleep(0.05)

    monkeypatch.setattr(ingest, "_flush", slow_flush)
    records = [{"id": i, "text": f"row {i}"} for i in range(20_000)]
    source = source_register(name="big", location=str(write_jsonl(tmp_path / "big.jsonl", records)))
    job = source_ingest_start(source=source)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.state == Job.State.RUNNING and job.done >= 100:
            break
        time.sleep(0.05)
    assert job.state == Job.State.RUNNING
    assert job_cancel(job=job)
    job = job_wait_finished(job)
    time.sleep(0.5)  # the worker's own bookkeeping after it stopped
    job.refresh_from_db()
    assert job.state == Job.State.CANCELLED and job.done < 20_000
    stopped_at = job.done
    time.sleep(0.5)
    job.refresh_from_db()
    assert job.done == stopped_at  # it stopped, not merely relabelled
    assert JobAttempt.objects.get(job=job).outcome == JobAttempt.Outcome.CANCELLED


@pytest.mark.django_db
def test_children_progress_adds_up_on_the_parent_and_its_page(curator_client, curator):
    parent = job_create(kind=job_kinds.BULK_DECIDE.key, created_by=curator)
    job_claim(job_id=parent.pk)
    children = job_fan_out(parent=parent, kind=job_kinds.BULK_DECIDE.key, params_list=[{}, {}, {}], totals=[100, 100, 50])
    parent.refresh_from_db()
    assert parent.total == 250
    job_claim(job_id=children[0].pk)
    job_progress(job=children[0], done=100)
    Job.objects.filter(pk=children[0].pk).update(state=Job.State.SUCCEEDED)
    job_child_finished(child=Job.objects.get(pk=children[0].pk))
    job_claim(job_id=children[1].pk)
    job_progress(job=children[1], done=40)

    summary = job_children_progress(parent=parent)
    assert summary is not None and (summary.count, summary.done, summary.total, summary.finished) == (3, 140, 250, 1)
    body = curator_client.get(f"/jobs/{parent.pk}/").content.decode()
    assert '<span class="children-done">140 / 250</span>' in body and "1 of 3 finished" in body
    assert not parent.is_stalled  # children still queued: the parent waits, it has not lost a worker

    for child in children[1:]:
        Job.objects.filter(pk=child.pk).update(state=Job.State.SUCCEEDED, done=child.total)
        job_child_finished(child=Job.objects.get(pk=child.pk))
    parent.refresh_from_db()
    assert parent.state == Job.State.SUCCEEDED and parent.done == 250


@pytest.mark.django_db
def test_the_job_page_shows_a_stalled_job_and_offers_retry_and_cancel(curator_client, reviewer_client, curator):
    job = job_create(kind=job_kinds.INGEST.key, created_by=curator)
    claimed = job_claim(job_id=job.pk)
    job_attempt_begin(job=claimed, worker="host-a pid 7")
    _stall(job)
    page = curator_client.get(f"/jobs/{job.pk}/").content.decode()
    assert "job-stalled" in page and "no heartbeat for 10 min" in page
    assert 'id="job-retry"' in page and 'id="job-cancel"' in page
    assert "host-a pid 7" in page  # the attempt, with its worker
    home = curator_client.get("/").content.decode()
    assert "job-stalled" in home
    # A reviewer who did not start it sees the state but no buttons, and cannot post them.
    other = reviewer_client.get(f"/jobs/{job.pk}/").content.decode()
    assert "job-stalled" in other and 'id="job-retry"' not in other
    assert reviewer_client.post(f"/jobs/{job.pk}/retry/").status_code == 403
    assert reviewer_client.post(f"/jobs/{job.pk}/cancel/").status_code == 403

    response = curator_client.post(f"/jobs/{job.pk}/retry/", follow=True)
    job.refresh_from_db()
    assert job.state == Job.State.QUEUED and "queued again (attempt 2)" in response.content.decode()
    page = curator_client.get(f"/jobs/{job.pk}/").content.decode()
    assert "Worker lost" in page and "its worker stopped beating" in page
    response = curator_client.post(f"/jobs/{job.pk}/cancel/", follow=True)
    job.refresh_from_db()
    assert job.state == Job.State.CANCELLED and f"{job_title(job)} is cancelled." in response.content.decode()


@pytest.mark.django_db
def test_the_job_command_shows_retries_and_cancels(capsys):
    job = job_create(kind=job_kinds.INGEST.key)
    job_claim(job_id=job.pk)
    with pytest.raises(CommandError, match="cannot be retried: running as job"):
        call_command("job", "retry", str(job.pk))
    _stall(job)
    call_command("job", "show", str(job.pk))
    assert "no heartbeat for 10 min" in capsys.readouterr().out
    call_command("job", "retry", str(job.pk))
    assert f"job #{job.pk} queued again (attempt 2)" in capsys.readouterr().out
    call_command("job", "cancel", str(job.pk))
    assert f"job #{job.pk} cancelled" in capsys.readouterr().out
    with pytest.raises(CommandError, match="already cancelled"):
        call_command("job", "cancel", str(job.pk))


@pytest.mark.django_db
def test_an_ingest_run_directly_records_its_attempt(tmp_path):
    from workers.tasks.ingest import ingest_source

    source = source_register(name="direct", location=str(write_jsonl(tmp_path / "d.jsonl", [{"a": 1}])))
    job, _ = source_ingest_prepare(source=source)
    ingest_source(job.pk)
    attempt = JobAttempt.objects.get(job=job)
    assert attempt.outcome == "succeeded" and attempt.ended_at is not None and attempt.worker
