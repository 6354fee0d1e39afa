"""Subsets over the API: list with stats, detail with open checks, samples by cursor pagination."""
import pytest

from curation.models import Sample
from tests.curation.ratings.makers import ratings_make
from tests.factories import approved_subset_make, image_make, sample_make, source_make, subset_make

pytestmark = pytest.mark.django_db


def test_subsets_are_listed_with_counts_and_filtered_by_status(curator_api):
    approved = approved_subset_make(samples=3, name="Approved one", sample_status="pending")
    Sample.objects.filter(pk=approved.samples.first().pk).update(status="rejected")
    subset_make(name="Draft one")

    body = curator_api.get("/api/subsets/").json()
    assert [s["name"] for s in body["results"]] == ["Approved one", "Draft one"]
    first = body["results"][0]
    assert first["samples"] == 3 and first["samples_by_status"] == {"pending": 2, "accepted": 0, "rejected": 1}
    assert first["status"] == "approved" and first["samples_url"].endswith(f"/api/subsets/{approved.pk}/samples/")

    only = curator_api.get("/api/subsets/", {"status": "approved"}).json()["results"]
    assert [s["name"] for s in only] == ["Approved one"]


def test_subset_detail_shows_sources_and_open_checks(reviewer_api):
    subset = subset_make(name="Open")
    sample_make(subset=subset, source=source_make(name="no-mapping"), images=[image_make()])

    body = reviewer_api.get(f"/api/subsets/{subset.pk}/").json()

    assert body["images"] == 1 and body["rated"] == 0
    assert body["sources"][0]["name"] == "no-mapping"
    assert [c["code"] for c in body["open_checks"]] == ["mapping_not_accepted"]


def test_samples_page_through_with_a_cursor_in_id_order(curator_api):
    subset = approved_subset_make(samples=5, name="Paged")
    ids = list(subset.samples.order_by("pk").values_list("pk", flat=True))
    two = sample_make(subset=subset, source=subset.samples.first().source, images=[image_make(), image_make()])
    ratings_make(two, formatting=[5])

    first = curator_api.get(f"/api/subsets/{subset.pk}/samples/", {"page_size": 4}).json()
    assert [s["id"] for s in first["results"]] == ids[:4] and first["previous"] is None
    second = curator_api.get(first["next"]).json()
    assert [s["id"] for s in second["results"]] == [*ids[4:], two.pk] and second["next"] is None
    last = second["results"][-1]
    assert [i["position"] for i in last["images"]] == [0, 1] and len(last["images"][0]["sha256"]) == 64
    assert last["ratings"]["formatting"] == {"ratings": [5], "min": 5}
    assert last["turns"] == [{"user": "What is shown?", "assistant": "A red square."}]


def test_samples_filter_by_state_and_unknown_subsets_are_404_in_the_error_shape(curator_api):
    subset = approved_subset_make(samples=3, sample_status="pending")
    Sample.objects.filter(pk=subset.samples.first().pk).update(status="accepted")

    accepted = curator_api.get(f"/api/subsets/{subset.pk}/samples/", {"status": "accepted"}).json()["results"]
    assert len(accepted) == 1

    missing = curator_api.get("/api/subsets/999999/samples/")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    bad = curator_api.get(f"/api/subsets/{subset.pk}/samples/", {"status": "maybe"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid"


@pytest.mark.parametrize(("who", "code"), [("anonymous_api", 401), ("nobody_api", 403), ("reviewer_api", 200)])
def test_subsets_need_a_token_and_the_view_permission(request, who, code):
    response = request.getfixturevalue(who).get("/api/subsets/")
    assert response.status_code == code
    if code != 200:
        assert set(response.json()) == {"error"}


@pytest.mark.parametrize("path", ["/api/subsets/", "/api/sources/", "/api/exports/"])
def test_a_garbage_cursor_is_a_400_naming_the_cursor_not_a_404(curator_api, path):
    approved_subset_make(samples=1)
    response = curator_api.get(path, {"cursor": "not-a-cursor"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_cursor" and response.json()["error"]["detail"] == {"field": "cursor"}
