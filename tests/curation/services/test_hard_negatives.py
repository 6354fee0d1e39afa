"""Hard negatives on a real subset: the job makes negatives with their trace, queues them for review, reruns add
nothing, reviewers' verdicts give the validity figures, and the export columns carry only human-valid ones."""
import pytest
from django.core.management import CommandError, call_command

from curation.exporters.registry import COLUMNS
from curation.models import HardNegative, HardNegativeStep, Job, ReviewItem, ReviewQueue
from curation.review.statistics import wilson_interval
from curation.services.hard_negative_stats import hard_negative_summary
from curation.services.hard_negatives import HardNegativeError, hard_negatives_start
from curation.services.review import review_decide
from curation.services.review_claims import review_claim_next
from tests.curation.engines.test_hardneg_builtin import CAPTIONS
from tests.factories import image_make, sample_make, source_make, subset_make

pytestmark = pytest.mark.django_db


def caption_subset(count: int = 8):
    subset = subset_make(category="captioning")
    source = source_make()
    samples = [
        sample_make(subset=subset, source=source, images=[image_make()],
                    turns=[{"user": "Describe the image.", "assistant": caption}])
        for caption in CAPTIONS[:count]
    ]
    return subset, samples


def test_the_command_makes_negatives_with_their_trace_and_a_rerun_adds_nothing(curator):
    subset, samples = caption_subset()
    call_command("generate_hard_negatives", subset.name, "--as-user", curator.username)
    negatives = HardNegative.objects.filter(subset=subset)
    count = negatives.count()
    assert count >= 5 * len(samples)
    job = Job.objects.get(kind="hard_negatives", target_id=str(subset.pk))
    assert job.state == "succeeded" and job.result["created"] == count
    assert set(job.result["by_attribute"]) >= {"colour", "count", "object"}
    one = negatives.filter(agent_verdict="passed").first()
    assert one.engine_name == "builtin-lexicon" and one.engine_version == "1" and one.visual_check == "reviewer"
    assert one.image_id == samples[0].sample_images.first().image_id or one.image_id is not None
    agents = list(one.steps.values_list("agent", flat=True))
    assert agents[0] == "generator" and "verifier" in agents
    assert set(negatives.values_list("phase", flat=True)) == {"global", "attribute", "atomic"}
    # The blind text model scored every negative of a batch with more than one caption.
    assert negatives.filter(blind_positive_score__isnull=True).count() == 0
    assert one.blind_engine.startswith("all-MiniLM-L6-v2")
    queue = ReviewQueue.objects.get(kind="hard_negative", subset=subset)
    passed = negatives.filter(agent_verdict="passed").count()
    assert queue.items.count() == passed
    steps = HardNegativeStep.objects.count()

    call_command("generate_hard_negatives", subset.name)
    assert HardNegative.objects.filter(subset=subset).count() == count
    assert HardNegativeStep.objects.count() == steps
    assert queue.items.count() == passed


def test_a_bad_request_is_refused_before_a_job_is_queued(curator):
    subset, _ = caption_subset(2)
    with pytest.raises(HardNegativeError, match="ratio"):
        hard_negatives_start(subset=subset, by=curator, ratio=0, enqueue=False)
    with pytest.raises(HardNegativeError, match="unknown attribute"):
        hard_negatives_start(subset=subset, by=curator, attributes=["smell"], enqueue=False)
    with pytest.raises(HardNegativeError, match="no LLM endpoint"):
        hard_negatives_start(subset=subset, by=curator, engine="llm", enqueue=False)
    with pytest.raises(CommandError, match="no subset"):
        call_command("generate_hard_negatives", "nope")
    assert not Job.objects.filter(kind="hard_negatives").exists()


def test_reviewer_verdicts_give_validity_with_wilson_intervals_and_the_verifier_against_humans(curator, reviewer):
    subset, _ = caption_subset(4)
    call_command("generate_hard_negatives", subset.name, "--ratio", "5", "--attributes", "colour,count,object")
    queue = ReviewQueue.objects.get(kind="hard_negative", subset=subset)
    verdicts = [
        {"verdict": "valid"}, {"verdict": "valid"}, {"verdict": "valid"}, {"verdict": "valid"}, {"verdict": "valid"},
        {"verdict": "valid"}, {"verdict": "invalid", "reason": "actually_true"}, {"verdict": "invalid", "reason": "paraphrase"},
        {"verdict": "edit", "text": "An edited negative that is false."}, {"verdict": "valid"},
    ]
    decided = []
    for data in verdicts:
        item = review_claim_next(queue=queue, user=reviewer)
        review_decide(item_id=item.pk, user=reviewer, data=data)
        decided.append(HardNegative.objects.get(pk=item.target_id))
    edited = HardNegative.objects.get(pk=decided[8].pk)
    assert edited.review == "edited" and edited.text == "An edited negative that is false." and edited.original_text
    summary = hard_negative_summary(subset=subset)
    assert summary.validity == wilson_interval(7, 10)
    assert round(summary.validity.low, 4) == 0.3968 and round(summary.validity.high, 4) == 0.8922
    assert summary.verifier_passed_humans_rejected == wilson_interval(2, 10)
    assert summary.reject_reasons == {"actually_true": 1, "paraphrase": 1}
    assert summary.ratio == summary.passed / 4
    per = {a.attribute: a for a in summary.by_attribute}
    assert sum(a.validity.n for a in per.values()) == 10
    assert sum(a.validity.successes for a in per.values()) == 7

    # Export columns: one row per sample, only human-valid (valid or edited) negatives unless asked.
    provider = COLUMNS["hard_negatives"]
    sample_ids = sorted({n.sample_id for n in decided})
    values = provider.batch_values([{"pk": pk} for pk in sample_ids])
    exported = [text for row in values.values() for text in row["hn_negatives"]]
    valid_texts = {n.text for n in HardNegative.objects.filter(subset=subset, review__in=["valid", "edited"])}
    assert set(exported) == valid_texts and len(exported) == 8
    for row in values.values():
        assert len(row["hn_negatives"]) == len(row["hn_negative_attributes"]) == len(row["hn_negative_levels"])
    everything = COLUMNS["hard_negatives_unreviewed"].batch_values([{"pk": pk} for pk in sample_ids])
    assert sum(len(r["hnu_negatives"]) for r in everything.values()) > 8
    assert ReviewItem.objects.filter(queue=queue, state="decided").count() == 10


def test_the_blind_text_model_check_is_reported_per_attribute(curator):
    subset, _ = caption_subset(len(CAPTIONS))
    call_command("generate_hard_negatives", subset.name)
    summary = hard_negative_summary(subset=subset)
    assert summary.blind.n == summary.passed > 0
    lines = [f"{a.attribute}: {a.blind.successes}/{a.blind.n} = {a.blind.rate:.0%}" for a in summary.by_attribute if a.blind.n]
    print(f"\nblind text model prefers the positive: overall {summary.blind.successes}/{summary.blind.n} = {summary.blind.rate:.1%}; "
          + "; ".join(lines))
    assert all(a.blind.n == a.passed for a in summary.by_attribute)
