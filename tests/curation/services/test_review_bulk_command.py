"""The review_bulk command: the same count-then-confirm bulk decision as the curator's page, run by a worker."""
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from curation.models import Decision, Sample
from tests.curation.review.builders import sample_queue_make


def _run(*args: str) -> str:
    out = StringIO()
    call_command("review_bulk", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_the_command_counts_then_decides_the_confirmed_items_on_a_worker(celery_worker_real, curator):
    queue, samples = sample_queue_make(count=3)
    args = ["--kind", "sample", "--subset", samples[0].subset.name, "--verdict", "reject", "--reason", "formatting", "--by", curator.username]
    assert "selects 3 items" in _run(*args)
    assert not Decision.objects.filter(verdict="reject").exists()

    out = _run(*args, "--confirm", "3", "--wait")
    assert "Done: 3 items decided" in out
    assert set(Sample.objects.values_list("status", "reject_reason")) == {("rejected", "formatting")}
    assert Decision.objects.filter(actor=curator, verdict="reject").count() == 3


@pytest.mark.django_db
def test_the_command_refuses_a_stale_count_and_a_reviewer(curator, reviewer):
    queue, samples = sample_queue_make(count=2)
    base = ["--kind", "sample", "--queue", str(queue.pk), "--verdict", "accept"]
    with pytest.raises(CommandError, match="not the 5 you confirmed"):
        _run(*base, "--by", curator.username, "--confirm", "5")
    with pytest.raises(CommandError, match="only curators and admins"):
        _run(*base, "--by", reviewer.username, "--confirm", "2")
    assert not Decision.objects.filter(verdict="accept").exists()
