"""A capability adds a review kind by writing its decision form, target template and effect, nothing more:
the queue, claims, work page, audit trail, bulk decisions and agreement then work for it."""
import re

import pytest
from django.contrib.contenttypes.models import ContentType

from curation.models import Decision, Sample
from curation.review import kinds
from curation.review.kinds import DecisionForm, EffectResult, Reason, ReviewKind, Verdict
from curation.review.selectors import agreement
from curation.services.jobs import job_create
from curation.services.review import ItemEntry, review_decide, review_items_enqueue, review_queue_create
from curation.services.review_bulk import ItemFilter, review_bulk_run
from curation.services.review_claims import review_claim_next
from tests.curation.review.builders import samples_make

pytestmark = pytest.mark.django_db


class RatingForm(DecisionForm):
    verdicts = (
        Verdict("good", "Good", key="g", outcome="good", style="primary"),
        Verdict("poor", "Poor", key="p", outcome="poor", reasons=(Reason("blurry", "Blurry"), Reason("off_topic", "Off topic"))),
    )


def rating_effect(*, target, verdict, data, actor):
    before = {"reject_reason": target.reject_reason}
    target.reject_reason = f"human:{verdict}"
    target.save(update_fields=["reject_reason"])
    return EffectResult(before=before, after={"reject_reason": target.reject_reason})


@pytest.fixture
def rating_kind(monkeypatch) -> ReviewKind:
    kind = ReviewKind(
        kind="rating", model=Sample, form=RatingForm, template="annotate/review_sample.html#target", effect=rating_effect
    )
    monkeypatch.setitem(kinds._REGISTRY, kind.kind, kind)
    return kind


def test_a_kind_made_of_a_form_a_template_and_an_effect_runs_on_the_machinery(rating_kind, reviewer, second_reviewer, reviewer_client, curator):
    samples = samples_make(count=3)
    queue = review_queue_create(kind=rating_kind.kind, subset=samples[0].subset, overlap_rate=1.0, by=curator)
    created = review_items_enqueue(queue=queue, entries=[ItemEntry(target_id=s.pk, score=float(i)) for i, s in enumerate(samples)])
    assert created == 6  # round 1 and round 2 of each

    html = reviewer_client.get(f"/review/queues/{queue.pk}/").content.decode()
    current = int(re.search(r'data-item="(\d+)"', html).group(1))
    assert 'data-key="g"' in html and 'data-reason-key="2"' in html and "Off topic" in html
    response = reviewer_client.post(f"/review/items/{current}/decide/", {"verdict": "poor", "reason": "blurry"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    decided = Decision.objects.get(item_id=current)
    assert (decided.verdict, decided.reason, decided.after) == ("poor", "blurry", {"reject_reason": "human:poor"})

    second = review_claim_next(queue=queue, user=second_reviewer)
    assert second.round == 2 and second.target_id == decided.target_id
    review_decide(item_id=second.pk, user=second_reviewer, data={"verdict": "poor", "reason": "off_topic"})
    assert agreement(queues=[queue]).by_queue[queue.pk].observed == 1.0

    job = job_create(kind="bulk_decide", created_by=curator, params={
        "filter": ItemFilter(kind=rating_kind.kind, queue_id=queue.pk, score_min=1.0).to_params(),
        "verdict": "good", "reason": "", "note": "",
    })
    assert review_bulk_run(job=job)["decided"] == 2  # no bulk_effect: the kind's effect runs per item
    sample_type = ContentType.objects.get_for_model(Sample)
    assert set(Sample.objects.filter(pk__in=[s.pk for s in samples[1:]]).values_list("reject_reason", flat=True)) == {"human:good"}
    assert Decision.objects.filter(job=job, target_type=sample_type).count() == 2


def test_a_kind_no_enum_knew_gets_its_queue_and_its_label_from_the_registry(monkeypatch, curator, reviewer_client):
    kind = ReviewKind(
        kind="caption_check", label="Caption check", model=Sample, form=RatingForm,
        template="annotate/review_sample.html#target", effect=rating_effect,
    )
    monkeypatch.setitem(kinds._REGISTRY, kind.kind, kind)
    samples = samples_make(count=1)
    queue = review_queue_create(kind="caption_check", subset=samples[0].subset, by=curator)
    assert queue.kind == "caption_check" and queue.name == f"Caption check · {samples[0].subset.name}"
    assert Decision.objects.filter(verdict="create_queue", target_id=str(queue.pk)).exists()
    assert kinds.kind_label("caption_check") == "Caption check" and kinds.kind_label("gone") == "gone"
    assert "Caption check" in reviewer_client.get("/review/").content.decode()
