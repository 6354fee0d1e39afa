"""Subset pages: the list, the page with what is still open, approve and reopen (HTMX and plain posts)."""
import pytest

from curation.models import Subset
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


@pytest.fixture
def open_subset():
    subset = subset_make(name="Half done")
    source = source_make(name="raw-src")
    sample_make(subset=subset, source=source, images=[image_make()], turns=[{"user": "Hi?", "assistant": "Hello."}])
    return subset, source


def test_the_subset_page_shows_stats_samples_and_what_is_still_open(curator_client, open_subset):
    subset, _ = open_subset
    page = curator_client.get(f"/subsets/{subset.pk}/").content.decode()
    assert "Source raw-src has no accepted mapping." in page
    assert 'id="approve" disabled' in page
    assert "Hello." in page and "?size=thumb" in page


def test_approving_with_open_checks_is_refused_and_says_why(curator_client, open_subset):
    subset, _ = open_subset
    response = curator_client.post(f"/subsets/{subset.pk}/approve/", headers={"HX-Request": "true"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "cannot be approved while 2 required check(s) fail" in page
    assert "0 of 1 samples reviewed" in page and "Source raw-src has no accepted mapping." in page
    assert Subset.objects.get(pk=subset.pk).status == Subset.Status.DRAFT


def test_the_approve_button_says_what_is_not_done(curator_client, open_subset):
    subset, source = open_subset
    mapping_make(source=source)
    page = curator_client.get(f"/subsets/{subset.pk}/").content.decode()
    assert "Approve for export: 0 of 1 reviewed" in page and 'id="approve" disabled' in page


def test_a_curator_approves_then_reopens_a_subset(curator_client, open_subset, reviewer):
    subset, source = open_subset
    mapping_make(source=source)
    spot_check_pass(subset=subset, reviewer=reviewer)

    approved = curator_client.post(f"/subsets/{subset.pk}/approve/", headers={"HX-Request": "true"})
    assert "is approved for export" in approved.content.decode() and 'id="export-subset"' in approved.content.decode()
    assert Subset.objects.get(pk=subset.pk).status == Subset.Status.APPROVED

    reopened = curator_client.post(f"/subsets/{subset.pk}/reopen/", {"reason": "recheck"})
    assert reopened.status_code == 302 and reopened["Location"] == f"/subsets/{subset.pk}/"
    assert Subset.objects.get(pk=subset.pk).status == Subset.Status.DRAFT


def test_the_list_filters_by_status(curator_client):
    approved_subset_make(samples=1, name="Yes one")
    subset_make(name="No one")
    page = curator_client.get("/subsets/?status=approved").content.decode()
    assert "Yes one" in page and "No one" not in page


def test_samples_page_by_keyset_with_htmx(curator_client):
    subset = approved_subset_make(samples=25, name="Long")
    first = curator_client.get(f"/subsets/{subset.pk}/").content.decode()
    assert "Question 19?" in first and "Question 20?" not in first
    after = subset.samples.order_by("pk")[19].pk
    more = curator_client.get(f"/subsets/{subset.pk}/?part=samples&after={after}", headers={"HX-Request": "true"})
    assert "Question 20?" in more.content.decode() and "<html" not in more.content.decode()


def test_the_review_panel_slot_renders_the_review_area_panel(curator_client, open_subset):
    subset, _ = open_subset
    page = curator_client.get(f"/subsets/{subset.pk}/").content.decode()
    assert f'id="subset-review-{subset.pk}"' in page


@pytest.mark.parametrize(
    ("who", "view_code", "approve_code"),
    [("curator", 200, 200), ("reviewer", 200, 403), ("nobody", 403, 403), ("anonymous", 302, 302)],
)
def test_who_may_see_and_approve_subsets(role_clients, open_subset, who, view_code, approve_code):
    subset, _ = open_subset
    client = role_clients[who]
    assert client.get(f"/subsets/{subset.pk}/").status_code == view_code
    assert client.get("/subsets/").status_code == view_code
    assert client.post(f"/subsets/{subset.pk}/approve/", headers={"HX-Request": "true"}).status_code == approve_code
