"""The review API with token auth: claim, decide (including edits), release; errors in one shape."""
import pytest
from rest_framework.test import APIClient

from curation.models import Decision, ReviewItem, Sample
from curation.services.api_tokens import token_rotate
from curation.services.review import review_queue_configure
from tests.curation.review.builders import sample_queue_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(reviewer) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_rotate(user=reviewer)[1]}")
    return client


def test_claim_then_decide_over_the_api(api, reviewer):
    queue, samples = sample_queue_make(count=2, images=2)
    queues = api.get("/api/review/queues/").json()
    assert queues == [
        {"id": queue.pk, "name": queue.name, "kind": "sample", "subset": samples[0].subset_id, "active": True,
         "overlap_rate": 0.0, "total": 2, "decided": 0, "open": 2}
    ]
    claimed = api.post(f"/api/review/queues/{queue.pk}/claim/")
    assert claimed.status_code == 200
    item = claimed.json()
    assert item["state"] == "claimed" and item["kind"] == "sample" and item["lease_expires_at"]
    assert len(item["target"]["images"]) == 2 and item["target"]["images"][0]["url"].startswith("/images/")
    assert item["target"]["turns"][0]["user"].startswith("Question")
    decided = api.post(f"/api/review/items/{item['id']}/decide/", {"verdict": "reject", "reason": "wrong_answer"}, format="json")
    assert decided.status_code == 200 and decided.json()["state"] == "decided"
    assert Sample.objects.get(pk=item["target_id"]).reject_reason == "wrong_answer"


def test_an_edit_over_the_api_sends_only_the_changed_turn(api):
    queue, _ = sample_queue_make(count=1)
    item = api.post(f"/api/review/queues/{queue.pk}/claim/").json()
    response = api.post(
        f"/api/review/items/{item['id']}/decide/",
        {"verdict": "edit", "fields": {"turn_1_assistant": "  Scarlet.  "}},
        format="json",
    )
    assert response.status_code == 200
    sample = Sample.objects.get(pk=item["target_id"])
    assert sample.turns[1]["assistant"] == "  Scarlet.  " and sample.original_turns[1]["assistant"] == "Red."
    assert Decision.objects.filter(item_id=item["id"], verdict="edit_turn").count() == 1


def test_api_errors_have_one_shape_with_a_stable_code(api, second_reviewer, curator):
    queue, _ = sample_queue_make(count=2)
    item = api.post(f"/api/review/queues/{queue.pk}/claim/").json()
    invalid = api.post(f"/api/review/items/{item['id']}/decide/", {"verdict": "reject"}, format="json")
    assert invalid.status_code == 422
    body = invalid.json()["error"]
    assert body["code"] == "invalid_decision" and "reason" in body["detail"]
    again = api.post(f"/api/review/items/{item['id']}/decide/", {"verdict": "accept"}, format="json")
    assert again.status_code == 200
    twice = api.post(f"/api/review/items/{item['id']}/decide/", {"verdict": "accept"}, format="json")
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "already_decided"
    missing = api.post("/api/review/items/999999/decide/", {"verdict": "accept"}, format="json")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "item_gone"
    review_queue_configure(queue=queue, by=curator, assignees=[second_reviewer])
    closed = api.post(f"/api/review/queues/{queue.pk}/claim/")
    assert closed.status_code == 403 and closed.json()["error"]["code"] == "queue_closed"


def test_release_and_an_empty_queue(api, reviewer):
    queue, _ = sample_queue_make(count=1)
    item = api.post(f"/api/review/queues/{queue.pk}/claim/?target=0").json()
    assert "target" not in item
    assert api.post(f"/api/review/items/{item['id']}/release/").json() == {"released": True}
    assert ReviewItem.objects.get(pk=item["id"]).state == "queued"
    item = api.post(f"/api/review/queues/{queue.pk}/claim/").json()
    api.post(f"/api/review/items/{item['id']}/decide/", {"verdict": "accept"}, format="json")
    assert api.post(f"/api/review/queues/{queue.pk}/claim/").status_code == 204


def test_the_review_endpoints_are_in_the_openapi_schema(api):
    schema = api.get("/api/schema/", {"format": "json"}).json()
    assert "/api/review/queues/{queue_id}/claim/" in schema["paths"]
    decide = schema["paths"]["/api/review/items/{item_id}/decide/"]["post"]
    assert decide["operationId"] == "review_item_decide"
