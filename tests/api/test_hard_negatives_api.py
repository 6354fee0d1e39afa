"""API of hard negatives: curators start a run (a Job to poll), viewers list the negatives; errors in the one shape."""
import pytest
from django.core.management import call_command

from curation.models import Job
from tests.curation.services.test_hard_negatives import caption_subset

pytestmark = pytest.mark.django_db


def test_a_curator_starts_a_run_and_anyone_who_may_view_lists_the_negatives(curator_api, reviewer_api, nobody_api, anonymous_api):
    subset, _ = caption_subset(3)
    url = f"/api/subsets/{subset.pk}/hard-negatives/"
    response = curator_api.post(url, {"ratio": 4, "attributes": ["colour", "count"]}, format="json")
    assert response.status_code == 202, response.content
    job = Job.objects.get(pk=response.json()["job"])
    assert job.kind == "hard_negatives" and job.params["ratio"] == 4 and job.params["attributes"] == ["colour", "count"]
    assert reviewer_api.post(url, {}, format="json").status_code == 403
    assert nobody_api.get(url).status_code == 403
    assert anonymous_api.get(url).status_code in (401, 403)

    call_command("generate_hard_negatives", subset.name, "--ratio", "4")
    listed = reviewer_api.get(url, {"attribute": "colour", "page_size": 5}).json()
    assert listed["results"] and all(n["attribute"] == "colour" for n in listed["results"])
    first = listed["results"][0]
    assert first["engine"] == {"name": "builtin-lexicon", "version": "1"} and first["changes"][0]["attribute"] == "colour"
    assert first["level"] in ("hard", "medium", "easy") and first["visual_check"] == "reviewer"


def test_a_bad_request_answers_in_the_error_shape(curator_api):
    subset, _ = caption_subset(1)
    url = f"/api/subsets/{subset.pk}/hard-negatives/"
    bad = curator_api.post(url, {"ratio": 0}, format="json")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid"
    no_llm = curator_api.post(url, {"engine": "llm"}, format="json")
    assert no_llm.status_code == 400 and no_llm.json()["error"]["code"] == "hard_negative_error"
    assert curator_api.get("/api/subsets/999999/hard-negatives/").status_code == 404
