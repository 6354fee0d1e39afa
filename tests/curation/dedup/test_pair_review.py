"""The duplicate and leak review kinds: one decision per pair, and high-similarity groups confirmed in bulk."""
from curation.models import Decision, DuplicatePair, ReviewItem
from curation.review.kinds import kind_get
from curation.services.review import review_queue_for
from curation.services.review_bulk import ItemFilter, review_bulk_start
from curation.services.review_fill import review_queue_fill
from tests.factories import image_make, sample_make, source_make, subset_make
from workers.tasks.review import review_bulk_decide


def _pairs(subset, similarities):
    source = source_make()
    pairs = []
    for sim in similarities:
        a = sample_make(subset=subset, source=source, images=[image_make()])
        b = sample_make(subset=subset, source=source, images=[image_make()])
        pairs.append(DuplicatePair.objects.create(
            kind="duplicate", a_sample=a, a_image=a.images.first(), b_sample=b, b_image=b.images.first(),
            similarity=sim, verify_score=1.0, verified=True, flagged=True, engine="sscd-int8-onnx",
        ))
    return pairs


def test_high_similarity_pairs_are_confirmed_in_bulk_and_audited(db, curator):
    subset = subset_make()
    pairs = _pairs(subset, [0.99, 0.985, 0.6])
    queue = review_queue_for(kind="duplicate", subset=subset, by=curator)
    assert review_queue_fill(queue=queue)["created"] == 3
    item_filter = ItemFilter(kind="duplicate", queue_id=queue.pk, score_min=0.98)
    job = review_bulk_start(item_filter=item_filter, verdict="keep_a", confirmed_count=2, by=curator)
    review_bulk_decide.run(job.pk)
    statuses = {p.pk: p.status for p in DuplicatePair.objects.all()}
    assert statuses == {pairs[0].pk: "keep_a", pairs[1].pk: "keep_a", pairs[2].pk: "open"}
    assert Decision.objects.filter(verdict="keep_a").count() == 2
    assert ReviewItem.objects.filter(queue=queue, state="decided").count() == 2


def test_leak_kind_offers_not_a_copy_and_drop(db):
    assert [v.value for v in kind_get("leak").verdicts] == ["not_copy", "leak"]
    assert [v.value for v in kind_get("duplicate").verdicts] == ["not_copy", "keep_a", "keep_b"]
