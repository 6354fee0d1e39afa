"""suggest_mapping and apply_mapping: the same services as the page, from the command line."""
import io

import pytest
from django.core.management import CommandError, call_command

from curation.models import Job, Mapping, Sample
from curation.services import job_kinds
from tests.curation.mapping import layouts

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_suggest_then_accept_and_apply_from_the_command_line(curator):
    source = layouts.source_with_rows("coco-captions", layouts.captions_records())
    out = run("suggest_mapping", source.name, "--engine", "rules")
    assert "coco-captions: version 1 by rules, confidence 0.9" in out and "took column 'captions' as captions" in out
    with pytest.raises(CommandError, match="no accepted mapping"):
        run("apply_mapping", str(source.pk))
    with pytest.raises(CommandError, match="add --accept --by USER"):
        run("apply_mapping", str(source.pk), "--version", "1")
    # Accepting applies in this process too (no worker needed on the embedded default).
    out = run("apply_mapping", str(source.pk), "--version", "1", "--accept", "--by", curator.username)
    assert "coco-captions v1: 2 samples in subset" in out and "0 rejected" in out
    mapping = Mapping.objects.get(source=source)
    assert mapping.status == Mapping.Status.ACCEPTED and mapping.decided_by == curator
    assert Sample.objects.filter(source=source, mapping=mapping).count() == 2
    out = run("apply_mapping", source.name)
    assert "coco-captions v1: 2 samples in subset" in out
    assert Job.objects.filter(kind=job_kinds.APPLY_MAPPING.key, state=Job.State.SUCCEEDED).count() == 2


def test_with_queue_the_apply_job_is_left_for_a_worker(curator, broker, django_capture_on_commit_callbacks):
    source = layouts.source_with_rows("queued-captions", layouts.captions_records())
    run("suggest_mapping", source.name, "--engine", "rules")
    with django_capture_on_commit_callbacks(execute=True):
        out = run("apply_mapping", source.name, "--accept", "--by", curator.username, "--queue")
    assert "queued job" in out
    job = Job.objects.get(kind=job_kinds.APPLY_MAPPING.key)
    assert job.state == Job.State.QUEUED
    assert [(task.name, task.args, task.id, task.queue) for task in broker.sent()] == [
        (job_kinds.APPLY_MAPPING.task, [job.pk], job.celery_id, job_kinds.APPLY_MAPPING.queue)
    ]
    assert not Sample.objects.filter(source=source).exists()


def test_accept_without_a_version_takes_the_newest_suggestion(curator):
    source = layouts.source_with_rows("trivia-newest", layouts.textonly_records())
    run("suggest_mapping", source.name, "--engine", "rules")
    with pytest.raises(CommandError, match="has no mapping version 7"):
        run("apply_mapping", source.name, "--accept", "--by", curator.username, "--version", "7")
    out = run("apply_mapping", source.name, "--accept", "--by", curator.username)
    assert "trivia-newest v1:" in out
    assert Mapping.objects.get(source=source).status == Mapping.Status.ACCEPTED
    with pytest.raises(CommandError, match="no suggested mapping to accept"):
        run("apply_mapping", source.name, "--accept", "--by", curator.username)


def test_commands_name_what_is_wrong(reviewer):
    with pytest.raises(CommandError, match="no source with id or name 'nope'"):
        run("suggest_mapping", "nope")
    source = layouts.source_with_rows("trivia", layouts.textonly_records())
    run("suggest_mapping", "trivia")
    with pytest.raises(CommandError, match="--by must name a user allowed to decide mappings"):
        run("apply_mapping", "trivia", "--version", "1", "--accept", "--by", reviewer.username)
    with pytest.raises(CommandError, match="has no mapping version 9"):
        run("apply_mapping", str(source.pk), "--version", "9")
