"""Buttons and commands say what actually happened (issue 17 points 3-5): an ingest already under way is named with
its heartbeat, suggest_mapping in-process refuses a source still ingesting, the job page lists every attempt."""
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from curation.models import Job, JobAttempt, Mapping
from curation.services import job_kinds
from curation.services.jobs import job_attempt_begin, job_attempt_end, job_claim
from curation.services.sources import source_ingest_prepare, source_register
from tests.curation.ingest.makers import write_jsonl

pytestmark = pytest.mark.django_db


def _orphaned_ingest(tmp_path, name="c-big"):
    """A source whose ingest was claimed 12 minutes ago by a worker that stopped beating 10 minutes ago."""
    path = write_jsonl(tmp_path / f"{name}.jsonl", [{"question": "q", "answer": "a"}])
    source = source_register(name=name, location=str(path))
    job, _ = source_ingest_prepare(source=source)
    job_claim(job_id=job.pk)
    now = timezone.now()
    Job.objects.filter(pk=job.pk).update(started_at=now - timedelta(minutes=12), heartbeat_at=now - timedelta(minutes=10))
    return source, job


def test_reingest_of_an_orphaned_ingest_says_it_is_stalled_not_started(curator_client, tmp_path, broker,
                                                                       django_capture_on_commit_callbacks):
    source, job = _orphaned_ingest(tmp_path)
    with django_capture_on_commit_callbacks(execute=True):
        response = curator_client.post(f"/sources/{source.pk}/ingest/", follow=True)
    body = response.content.decode()
    assert "started (job" not in body and broker.sent() == []
    assert (f"An ingest of c-big is already running as job #{job.pk}, started 12 min ago, no heartbeat for 10 min: "
            "its worker seems to have stopped; retry or cancel it.") in body


def test_ingest_async_refuses_to_claim_it_enqueued_an_ingest_already_under_way(tmp_path, broker,
                                                                               django_capture_on_commit_callbacks):
    source, job = _orphaned_ingest(tmp_path)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(CommandError) as caught:
        call_command("ingest", source.location, "--source", source.name, "--async")
    message = str(caught.value)
    assert "enqueued" not in message and broker.sent() == []
    assert f"already running as job #{job.pk}, started 12 min ago, no heartbeat for 10 min" in message
    assert f"manage.py job retry|cancel {job.pk}" in message


def test_ingest_async_says_queued_for_a_new_ingest(tmp_path, capsys, broker, django_capture_on_commit_callbacks):
    path = write_jsonl(tmp_path / "fresh.jsonl", [{"a": 1}])
    with django_capture_on_commit_callbacks(execute=True):
        call_command("ingest", str(path), "--source", "fresh", "--async")
    job = Job.objects.get()
    assert f"Ingest of fresh queued as job #{job.pk}; a worker will read it." in capsys.readouterr().out
    assert [(task.name, task.args, task.id) for task in broker.sent("io")] == [(job_kinds.INGEST.task, [job.pk], job.celery_id)]


def test_suggest_mapping_in_process_refuses_a_source_still_ingesting(tmp_path):
    source, job = _orphaned_ingest(tmp_path, name="busy")
    with pytest.raises(CommandError, match=f"source busy is still being ingested \\(its ingest is already running as job #{job.pk}"):
        call_command("suggest_mapping", source.name)
    assert not Mapping.objects.filter(source=source).exists()
    assert not Job.objects.filter(kind="suggest_mapping").exists()


def test_the_suggest_button_and_queue_flag_share_the_check(curator_client, tmp_path, broker,
                                                           django_capture_on_commit_callbacks):
    source, job = _orphaned_ingest(tmp_path, name="busy")
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(CommandError, match="still being ingested"):
            call_command("suggest_mapping", source.name, "--queue")
        body = curator_client.post(f"/sources/{source.pk}/mapping/suggest/", follow=True).content.decode()
    assert "still being ingested" in body and not Job.objects.filter(kind="suggest_mapping").exists()
    assert broker.sent() == []


def test_the_job_page_shows_each_attempt_start_end_and_outcome(curator_client):
    from curation.services.jobs import job_create

    job = job_create(kind="ingest")
    claimed = job_claim(job_id=job.pk)
    first = job_attempt_begin(job=claimed, worker="host-a pid 11")
    Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=5))
    again = job_claim(job_id=job.pk)  # the redelivered task: the first worker is gone
    second = job_attempt_begin(job=again, worker="host-b pid 12")
    job_attempt_end(attempt=second, outcome=JobAttempt.Outcome.SUCCEEDED)
    first.refresh_from_db()
    assert first.outcome == "lost" and first.ended_at is not None
    body = curator_client.get(f"/jobs/{job.pk}/").content.decode()
    assert "Attempts (2)" in body
    assert body.count('class="attempt"') == 2
    assert 'data-outcome="lost"' in body and 'data-outcome="succeeded"' in body
    assert "host-a pid 11" in body and "host-b pid 12" in body


def test_registering_a_source_says_its_ingest_is_queued_not_that_a_worker_reads_it(curator_client, tmp_path, broker,
                                                                                    django_capture_on_commit_callbacks):
    path = write_jsonl(tmp_path / "new.jsonl", [{"a": 1}])
    with django_capture_on_commit_callbacks(execute=True):
        body = curator_client.post("/sources/new/", {"name": "new", "location": str(path), "format": "auto"},
                                   follow=True).content.decode()
    job = Job.objects.get(kind="ingest")
    assert "Registered new." in body
    # The state is said apart from the confirmation, bound to the job: it goes once the job is no longer queued.
    assert f'data-job="{job.pk}" data-job-states="queued">Its ingest is queued' in body
    assert [(task.name, task.args) for task in broker.sent("io")] == [(job_kinds.INGEST.task, [job.pk])]
