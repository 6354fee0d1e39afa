"""In a real browser: a reviewer verifies five hard negatives with the keyboard alone, then a curator exports the
verified set as JSONL (a real worker writes it) and only the human-valid negatives are in it."""
import json
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from curation.models import Export, HardNegative, ReviewItem, ReviewQueue
from tests.curation.review.builders import spot_check_pass
from tests.factories import image_make, mapping_make, sample_make, source_make, subset_make

CAPTIONS = [
    "A red bus parked on the street.",
    "A blue kite in the sky.",
    "A green bench in a park.",
    "A yellow taxi on a road.",
    "A white cup on a desk.",
]


def _shown(page) -> str:
    return page.locator("#review-current article.review-item").get_attribute("data-item")


def _wait_next(page, previous: str) -> None:
    page.wait_for_function(
        "prev => { const a = document.querySelector('#review-current article.review-item');"
        " return !a || a.dataset.item !== prev; }", arg=previous)


@pytest.mark.browser
@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_reviewer_verifies_five_negatives_by_keyboard_and_the_valid_ones_are_exported(celery_worker_real, login, live_server,
                                                                                         reviewer, curator):
    subset = subset_make(name="Browser captions", category="captioning")
    source = source_make(name="captions-src")
    mapping = mapping_make(source=source, subset=subset)
    for i, caption in enumerate(CAPTIONS):
        sample_make(subset=subset, source=source, mapping=mapping, images=[image_make()], row_number=i,
                    turns=[{"user": "Describe the image.", "assistant": caption}])
    call_command("generate_hard_negatives", subset.name, "--attributes", "colour", "--ratio", "1")
    queue = ReviewQueue.objects.get(kind="hard_negative", subset=subset)
    assert queue.items.count() == 5

    page = login(reviewer)
    page.goto(f"{live_server.url}/review/queues/{queue.pk}/")
    current = page.locator("#review-current")
    # The negative is shown beside its positive, its changed span highlighted, its target attribute named.
    assert current.locator(".hn-attribute").inner_text() == "colour"
    assert current.locator("[data-negative-text] mark").count() == 1
    for key in ("v", "v"):
        shown = _shown(page)
        page.keyboard.press(key)
        _wait_next(page, shown)
    shown = _shown(page)
    page.keyboard.press("x")
    assert page.locator("#review-current fieldset.reasons.choosing").is_visible()
    page.keyboard.press("1")  # actually true for the image
    _wait_next(page, shown)
    shown = _shown(page)
    page.keyboard.press("v")
    _wait_next(page, shown)
    # The fifth: edit the negative in place, save with Ctrl+Enter.
    shown = _shown(page)
    page.keyboard.press("e")
    area = page.locator("#review-current textarea[name='text']")
    assert area.evaluate("el => el === document.activeElement")
    page.keyboard.press("Control+a")
    page.keyboard.type("A purple object seen by the reviewer.")
    page.keyboard.press("Control+Enter")
    page.locator("#review-current [data-empty]").wait_for()
    assert page.locator("#review-session-count").inner_text() == "5"
    assert ReviewItem.objects.filter(queue=queue, state="decided").count() == 5
    reviews = sorted(HardNegative.objects.filter(subset=subset).values_list("review", flat=True))
    assert reviews == ["edited", "invalid", "valid", "valid", "valid"]

    # The subset's spot-check (the approval policy asks for one) is done by the same reviewer, through the services.
    spot_check_pass(subset=subset, reviewer=reviewer)
    # The curator sees the validity on the subset page, approves and exports the verified set.
    page.context.clear_cookies()
    page = login(curator)
    page.goto(f"{live_server.url}/subsets/{subset.pk}/")
    page.locator(".hn-validity").wait_for()
    assert page.locator(".hn-validity").inner_text() == "60.0%"
    assert "95% interval" in page.locator(f"#hard-negative-stats-{subset.pk}").inner_text()
    page.click("#approve")
    page.locator("#approval .msg-success").wait_for()
    page.click("#export-subset")
    page.wait_for_url(f"{live_server.url}/exports/new/?subsets={subset.pk}")
    page.check("input[name=format][value=llava_jsonl]")
    page.check("input[name=columns][value=hard_negatives]")
    page.click("#create-export")
    page.wait_for_url(f"{live_server.url}/exports/*/")
    page.locator("#export-status[data-state=succeeded]").wait_for(timeout=30_000)

    export = Export.objects.get()
    lines = [json.loads(line) for line in (Path(settings.MEDIA_ROOT) / "exports" / str(export.pk) / "data.jsonl").read_text().splitlines()]
    assert len(lines) == 5
    exported = sorted(text for line in lines for text in line["hn_negatives"])
    valid = sorted(HardNegative.objects.filter(subset=subset, review__in=["valid", "edited"]).values_list("text", flat=True))
    assert exported == valid and "A purple object seen by the reviewer." in exported
    for line in lines:
        assert line["image"].startswith("images/") and line["hn_positive"] in CAPTIONS
        assert line["hn_negative_attributes"] == ["colour"] * len(line["hn_negatives"])
        assert line["hn_negative_levels"] == ["hard"] * len(line["hn_negatives"])
