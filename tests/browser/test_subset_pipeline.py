"""In a real browser at 1280x720: a subset's pipeline at a glance, and an approval that means something."""
import re

import pytest

from curation.models import Decision, Subset
from tests.curation.review.builders import spot_check_pass
from tests.factories import image_make, mapping_make, sample_make, source_make, subset_make


def _unreviewed(name="Charts", license="CC BY 4.0"):
    subset = subset_make(name=name)
    source = source_make(name=f"{name.lower()}-src", license=license)
    mapping = mapping_make(source=source, subset=subset)
    for i in range(3):
        sample_make(subset=subset, source=source, mapping=mapping, images=[image_make()], row_number=i,
                    turns=[{"user": f"Value of bar {i}?", "assistant": str(i)}])
    return subset


def _stage(page, key):
    row = page.locator(f"#pipeline tr[data-stage='{key}']")
    return row.get_attribute("data-state"), row.inner_text()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_an_unreviewed_subset_cannot_be_approved_and_the_page_says_what_is_missing(small_page, login_small, live_server, curator):
    subset = _unreviewed()
    login_small(curator)
    small_page.goto(f"{live_server.url}/subsets/{subset.pk}/")

    assert [r.get_attribute("data-stage") for r in small_page.locator("#pipeline tbody tr").all()] == [
        "ingested", "mapped", "near_duplicates", "leaks", "ratings", "spot_check", "approved", "exported"]
    state, text = _stage(small_page, "spot_check")
    assert state == "not_run" and "0 of 3 reviewed" in text
    assert _stage(small_page, "approved")[0] == "not_run"
    button = small_page.locator("#approve")
    assert button.is_disabled() and "0 of 3 reviewed" in button.inner_text()
    assert small_page.locator("[data-check='spot_check'][data-passed='false'][data-required='true']").is_visible()

    # Queueing the spot-check from the review panel updates the pipeline too (one event, every panel listens).
    small_page.locator(f"#subset-review-{subset.pk} button[type=submit]").first.click()
    small_page.wait_for_function("() => document.querySelector(\"#pipeline tr[data-stage='spot_check']\").dataset.state === 'needs_review'")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_reviewed_subset_is_approved_and_the_history_and_pipeline_update_in_place(small_page, login_small, live_server, curator, reviewer):
    subset = _unreviewed()
    spot_check_pass(subset=subset, reviewer=reviewer)
    login_small(curator)
    small_page.goto(f"{live_server.url}/subsets/{subset.pk}/")
    assert _stage(small_page, "spot_check")[0] == "done"
    assert small_page.locator("#approve").inner_text().strip() == "Approve for export"

    small_page.click("#approve")
    small_page.locator("#approval .msg-success").wait_for()
    small_page.wait_for_function("() => document.querySelector(\"#pipeline tr[data-stage='approved']\").dataset.state === 'done'")
    small_page.locator("#history li", has_text="approve").wait_for()
    assert Subset.objects.get(pk=subset.pk).status == Subset.Status.APPROVED


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_an_admin_approves_over_a_failing_check_with_a_written_reason(small_page, login_small, live_server, admin):
    subset = _unreviewed(name="Nolicence", license="")
    login_small(admin)
    small_page.goto(f"{live_server.url}/subsets/{subset.pk}/")
    assert "Approve over 2 failing checks" in small_page.locator("#approve").inner_text()
    small_page.fill("textarea[name=override_reason]", "licence confirmed by email; reviewed offline")
    small_page.click("#approve")
    small_page.locator("#approval .msg-success").wait_for()
    assert "over the failing checks" in small_page.locator("#approval").inner_text()
    decision = Decision.objects.get(verdict="approve_override")
    assert sorted(decision.after["overridden_checks"]) == ["licence", "spot_check"]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_subsets_list_shows_each_stage_as_a_column(small_page, login_small, live_server, curator):
    _unreviewed(name="Listed")
    login_small(curator)
    small_page.goto(f"{live_server.url}/subsets/")
    headers = small_page.locator("#subsets thead th").all_inner_texts()
    assert [h.strip().lower() for h in headers][5:] == ["ingested", "mapped", "near-duplicates", "benchmark leaks",
                                                         "quality ratings", "spot-check review", "approved", "exported"]
    assert small_page.locator("#subsets td[data-stage='spot_check']").inner_text().count("0 of 3 reviewed") == 1


@pytest.mark.django_db
def test_the_capabilities_add_their_stages_where_they_apply(curator_client):
    captions = _unreviewed(name="Captions")
    Subset.objects.filter(pk=captions.pk).update(category="captioning")
    page = curator_client.get(f"/subsets/{captions.pk}/?part=pipeline", headers={"HX-Request": "true"}).content.decode()
    stages = re.findall(r'data-stage="([a-z_]+)" data-state="([a-z_]+)"', page)
    assert [key for key, _ in stages] == ["ingested", "mapped", "near_duplicates", "leaks", "ratings", "hard_negatives",
                                          "spot_check", "approved", "exported"]
    assert dict(stages)["near_duplicates"] == "not_run" and dict(stages)["ratings"] == "not_run"
    # A VQA subset has no hard negatives or GUI actions to show.
    vqa = _unreviewed(name="Vqa")
    page = curator_client.get(f"/subsets/{vqa.pk}/?part=pipeline", headers={"HX-Request": "true"}).content.decode()
    assert "hard_negatives" not in page and 'data-stage="actions"' not in page
