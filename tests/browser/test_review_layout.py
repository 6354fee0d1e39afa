"""In a real browser at 1280x720: the review page says where an item stands and keeps its decision bar on screen."""
import re

import pytest

from tests.curation.review.builders import sample_queue_make


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_decision_bar_is_on_screen_and_items_are_counted_not_numbered_by_id(login_small, live_server, reviewer):
    queue, _ = sample_queue_make(count=5)
    page = login_small(reviewer)
    page.goto(f"{live_server.url}/review/queues/{queue.pk}/")

    current = page.locator("#review-current article.review-item")
    assert current.locator(".item-position").inner_text() == "Item 1 of 5"
    accept = current.locator("button[data-key='a']")
    box = accept.bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 720, box
    # Rows are counted from 1 as people count, never shown as the 0-based position in the file.
    shown = current.locator(".sample-facts").inner_text()
    assert re.search(r", row [1-9][0-9,]*", shown), shown

    page.keyboard.press("a")
    page.locator("#review-current .item-position", has_text="Item 2 of 5").wait_for()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_no_control_that_does_nothing(login_small, live_server, reviewer, curator):
    queue, samples = sample_queue_make(count=1)
    page = login_small(reviewer)
    page.goto(f"{live_server.url}/review/queues/{queue.pk}/")
    release = page.locator("button", has_text="Stop and return my items")
    assert release.is_visible()
    page.keyboard.press("a")
    page.locator("#review-current [data-empty]").wait_for()
    assert not release.is_visible(), "nothing is held any more: the button would do nothing"

    # An approved subset offers no 'queue for review' form (it takes no new items).
    Subset = type(samples[0].subset)
    Subset.objects.filter(pk=samples[0].subset_id).update(status="approved", approved_at="2026-01-01T00:00:00Z")
    page = login_small(curator)
    page.goto(f"{live_server.url}/subsets/{samples[0].subset_id}/")
    page.locator(f"#subset-review-{samples[0].subset_id} .review-panel-stats").wait_for()
    assert page.locator("button", has_text="Queue for review").count() == 0
    assert "reopen it to queue more" in page.inner_text(f"#subset-review-{samples[0].subset_id}")
