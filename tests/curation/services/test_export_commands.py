"""The export and subset_approve commands drive the same services as the pages."""
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from curation.models import Export, Subset
from curation.services import job_kinds
from tests.curation.review.builders import spot_check_pass
from tests.factories import (
    approved_subset_make,
    image_make,
    mapping_make,
    sample_make,
    source_make,
    subset_make,
)

pytestmark = pytest.mark.django_db


def test_export_command_writes_files_here_and_prints_checksums(curator):
    subset = approved_subset_make(samples=2, name="Cmd subset", sample_status="pending")
    out = StringIO()

    call_command("export", "Cmd subset", "--format", "webdataset", "--by", curator.username,
                 "--filters", '{"decision": {"statuses": ["pending"]}}', stdout=out)

    export = Export.objects.get()
    assert export.state == Export.State.SUCCEEDED and export.created_by == curator and export.sample_count == 2
    assert "shards/cmd-subset-000000.tar" in out.getvalue() and list(export.subsets.all()) == [subset]


def test_export_command_with_queue_leaves_the_export_to_a_worker(curator, broker, django_capture_on_commit_callbacks):
    approved_subset_make(samples=1, name="Queued one")
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("export", "Queued one", "--queue", "--filters", '{"decision": {"statuses": ["pending"]}}',
                     stdout=out)
    export = Export.objects.get()
    assert export.state == Export.State.QUEUED and f"Export {export.pk} queued" in out.getvalue()
    assert [(task.name, task.args, task.queue) for task in broker.sent()] == [
        (job_kinds.EXPORT.task, [export.job_id], job_kinds.EXPORT.queue)
    ]


def test_export_command_refuses_a_draft_subset_with_the_reason():
    subset_make(name="Draft one")
    with pytest.raises(CommandError, match="not approved: Draft one"):
        call_command("export", "Draft one", stdout=StringIO())


def test_subset_approve_command_lists_open_checks_or_approves(curator, reviewer):
    subset = subset_make(name="To approve")
    source = source_make(name="src")
    sample_make(subset=subset, source=source, images=[image_make()])
    with pytest.raises(CommandError, match="Source src has no accepted mapping"):
        call_command("subset_approve", "To approve", "--by", curator.username, stdout=StringIO())
    with pytest.raises(CommandError, match="may not approve"):
        call_command("subset_approve", "To approve", "--by", reviewer.username, stdout=StringIO())

    mapping_make(source=source)
    with pytest.raises(CommandError, match="0 of 1 samples reviewed"):
        call_command("subset_approve", "To approve", "--by", curator.username, stdout=StringIO())
    spot_check_pass(subset=subset, reviewer=reviewer)
    call_command("subset_approve", "To approve", "--by", curator.username, stdout=StringIO())
    assert Subset.objects.get(pk=subset.pk).status == Subset.Status.APPROVED

    call_command("subset_approve", str(subset.pk), "--by", curator.username, "--reopen", "--reason", "recheck", stdout=StringIO())
    assert Subset.objects.get(pk=subset.pk).status == Subset.Status.DRAFT
