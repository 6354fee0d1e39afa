"""Ratings end to end outside the engines: the FineVision columns and the minimum filter in exports, the
rating review kind on the review machinery, the pages and the API, with their permissions."""
from pathlib import Path

import datasets
import pytest
from django.conf import settings

from curation.engines.judges_builtin import BuiltinJudge
from curation.models import Export, Rating, ReviewItem, Sample, Subset
from curation.services.jobs import job_claim, job_create
from curation.services.ratings import ratings_run
from curation.services.review import review_decide, review_queue_create
from curation.services.review_claims import review_claim_next
from curation.services.review_fill import review_queue_fill
from tests.factories import export_build_now

pytestmark = pytest.mark.django_db


def _rate(subset):
    job = job_claim(job_id=job_create(kind="rate_quality", target=subset, params={"judge": "builtin"}).pk)
    ratings_run(job=job)


def _approve(subset):
    from django.utils import timezone

    # Reviewed and approved: exports keep accepted samples unless asked otherwise.
    Sample.objects.filter(subset=subset).update(status=Sample.Status.ACCEPTED)
    Subset.objects.filter(pk=subset.pk).update(status=Subset.Status.APPROVED, approved_at=timezone.now())


def test_a_parquet_export_carries_the_ratings_per_turn_in_the_finevision_layout(rating_subset, curator):
    _rate(rating_subset)
    _approve(rating_subset)
    export = export_build_now(subsets=[rating_subset], format="parquet", by=curator)
    assert export.state == Export.State.SUCCEEDED, export.job.message
    files = sorted((Path(settings.MEDIA_ROOT) / "exports" / str(export.pk)).rglob("*.parquet"))
    rows = list(datasets.load_dataset("parquet", data_files=[str(f) for f in files], split="train"))
    first = rows[0]
    assert len(first["formatting_ratings"]) == 2 and first["formatting_min"] == min(first["formatting_ratings"]) == 1
    assert first["image_correspondence_ratings"] == [None, None] and first["image_correspondence_min"] is None
    assert rows[1]["visual_dependency_ratings"] == [1]  # text-only: nothing to look at
    checks = export.manifest["checks"]["ratings"]
    assert checks["rated"] == 3 and checks["engines"] == [f"{BuiltinJudge.name} {BuiltinJudge.version}"]


def test_an_export_can_keep_only_samples_above_minimum_ratings(rating_subset, curator):
    _rate(rating_subset)
    _approve(rating_subset)
    export = export_build_now(
        subsets=[rating_subset], format="llava_jsonl", by=curator,
        filters={"ratings": {"formatting": 2, "relevance": 1, "visual_dependency": 1, "image_correspondence": 1}},
    )
    assert export.state == Export.State.SUCCEEDED, export.job.message
    assert export.sample_count == 2
    assert "formatting minimum below 2 or not rated" in str(export.manifest)


def test_reviewers_rate_judged_turns_through_the_review_machinery(rating_subset, curator, reviewer):
    _rate(rating_subset)
    queue = review_queue_create(kind="rating", subset=rating_subset, by=curator)
    result = review_queue_fill(queue=queue, fraction=1.0, seed=3)
    assert result["created"] == 4
    item = review_claim_next(queue=queue, user=reviewer)
    bad = {"verdict": "rate", "formatting": "4"}
    with pytest.raises(Exception, match="Rate every axis|required"):
        review_decide(item_id=item.pk, user=reviewer, data=bad)
    review_decide(item_id=item.pk, user=reviewer, data={"verdict": "rate", "formatting": "4", "relevance": "5",
                                                         "visual_dependency": "3", "image_correspondence": "2"})
    human = Rating.objects.filter(rater=reviewer)
    assert dict(human.values_list("axis", "score")) == {"formatting": 4, "relevance": 5, "visual_dependency": 3, "image_correspondence": 2}
    assert set(human.values_list("engine", flat=True)) == {"human"}
    assert ReviewItem.objects.get(pk=item.pk).state == "decided"


def test_the_panel_histograms_agreement_and_sample_browser_render(rating_subset, curator_client, reviewer):
    _rate(rating_subset)
    first = Sample.objects.filter(subset=rating_subset).order_by("pk").first()
    Rating.objects.create(sample=first, turn=0, axis="formatting", score=4, engine="human", rater=reviewer)
    html = curator_client.get(f"/subsets/{rating_subset.pk}/ratings/?part=panel", headers={"HX-Request": "true"}).content.decode()
    assert BuiltinJudge.name in html and 'data-axis="formatting"' in html and "77.5%" in html
    assert 'id="agreement"' in html and "1 turns rated by people" in html
    page = curator_client.get(f"/subsets/{rating_subset.pk}/ratings/samples/", {"formatting": "2"}).content.decode()
    assert page.count('<tr data-sample="') == 2 and "question-answer similarity" in page
    assert "needs a vision-language judge" in page
    detail = curator_client.get(f"/subsets/{rating_subset.pk}/").content.decode()
    assert f"/subsets/{rating_subset.pk}/ratings/?part=panel" in detail


def test_curators_start_a_run_from_the_page_and_reviewers_may_not(rating_subset, curator_client, reviewer_client, nobody_client, client):
    url = f"/subsets/{rating_subset.pk}/ratings/run/"
    assert reviewer_client.post(url, {"judge": "builtin"}).status_code == 403
    assert nobody_client.get(f"/subsets/{rating_subset.pk}/ratings/").status_code == 403
    assert client.get(f"/subsets/{rating_subset.pk}/ratings/").status_code == 302
    response = curator_client.post(url, {"judge": "builtin"}, headers={"HX-Request": "true"})
    assert response.status_code == 200 and "Rating started with the" in response.content.decode()
    refused = curator_client.post(url, {"judge": "transformers"}, headers={"HX-Request": "true"}).content.decode()
    assert "cannot run here" in refused


def test_the_api_starts_a_run_and_reads_ratings(rating_subset, curator, reviewer):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(curator)
    started = api.post(f"/api/subsets/{rating_subset.pk}/ratings/runs/", {"judge": "builtin"}, format="json")
    assert started.status_code == 202 and started.json()["judge"] == "builtin"
    bad = api.post(f"/api/subsets/{rating_subset.pk}/ratings/runs/", {"judge": "chat"}, format="json")
    assert bad.status_code in (400, 409) and bad.json()["error"]["code"] == "judge_unavailable"
    _rate(rating_subset)
    summary = api.get(f"/api/subsets/{rating_subset.pk}/ratings/").json()
    assert summary["current"]["engine"] == BuiltinJudge.name
    assert summary["distributions"][0]["axis"] == "formatting" and summary["distributions"][0]["turns"] == 4
    sample = Sample.objects.filter(subset=rating_subset).order_by("pk").first()
    rows = api.get(f"/api/samples/{sample.pk}/ratings/").json()
    assert len(rows) == 8 and {r["engine"] for r in rows} == {BuiltinJudge.name}
    samples = api.get(f"/api/subsets/{rating_subset.pk}/samples/").json()["results"]
    assert samples[0]["ratings"]["formatting"]["min"] == 1 and len(samples[0]["ratings"]["formatting"]["ratings"]) == 2
    reader = APIClient()
    reader.force_authenticate(reviewer)
    assert reader.post(f"/api/subsets/{rating_subset.pk}/ratings/runs/", {"judge": "builtin"}, format="json").status_code == 403
    assert reader.get(f"/api/subsets/{rating_subset.pk}/ratings/").status_code == 200


def test_a_text_only_turn_is_not_asked_for_image_correspondence(rating_subset, reviewer):
    from curation.models import RatedTurn
    from curation.review.rating import RatingDecisionForm, rating_review_effect

    _rate(rating_subset)
    text_only = RatedTurn.objects.get(sample__image_count=0)
    form = RatingDecisionForm({"verdict": "rate", "formatting": "5", "relevance": "5", "visual_dependency": "1"}, target=text_only)
    assert form.is_valid(), form.errors
    assert "image_correspondence" not in form.fields
    rating_review_effect(target=text_only, verdict="rate", data=form.cleaned_data, actor=reviewer)
    assert set(Rating.objects.filter(rater=reviewer).values_list("axis", flat=True)) == {"formatting", "relevance", "visual_dependency"}
