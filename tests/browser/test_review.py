"""In a real browser: a reviewer works five items of a queue with the keyboard alone."""
import pytest

from curation.models import Decision, ReviewItem, Sample
from tests.curation.review.builders import sample_queue_make
from tests.factories import sample_make, source_make, subset_make


def _shown(page) -> int:
    return int(page.locator("#review-current article.review-item").get_attribute("data-item"))


def _wait_shown(page, item_id: int) -> None:
    page.locator(f"#review-current article.review-item[data-item='{item_id}']").wait_for()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_reviewer_works_five_items_with_the_keyboard_only(login, live_server, reviewer):
    queue, _ = sample_queue_make(count=6)
    items = list(ReviewItem.objects.filter(queue=queue).order_by("id").values_list("pk", flat=True))
    page = login(reviewer)
    page.goto(f"{live_server.url}/review/queues/{queue.pk}/")

    # The next item is claimed and rendered, its image loaded, before the first one is decided.
    assert _shown(page) == items[0]
    ahead_image = page.locator(f"#review-ahead article[data-item='{items[1]}'] img[data-zoomable]")
    ahead_image.wait_for(state="attached")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=ahead_image.element_handle())

    # 1: accept.
    page.keyboard.press("a")
    _wait_shown(page, items[1])
    assert page.locator("#review-session-count").inner_text() == "1"

    # 2: reject as an unreadable image (r, then the reason's number).
    page.keyboard.press("r")
    assert page.locator("#review-current fieldset.reasons.choosing").is_visible()
    page.keyboard.press("2")
    _wait_shown(page, items[2])

    # 3: edit a turn in place, save with Ctrl+Enter.
    page.keyboard.press("e")
    focused = page.locator("#review-current textarea[name='turn_0_user']")
    assert focused.evaluate("el => el === document.activeElement")
    page.keyboard.press("Tab")
    page.keyboard.press("Control+a")
    page.keyboard.type("A corrected answer.")
    page.keyboard.press("Control+Enter")
    _wait_shown(page, items[3])

    # 4: the ? overlay lists the shortcuts; zoom the image; accept.
    page.keyboard.press("?")
    assert page.locator("#review-help").is_visible()
    assert "Reject with a reason" in page.locator("#review-help").inner_text()
    page.keyboard.press("Escape")
    assert page.locator("#review-help").is_hidden()
    page.keyboard.press("z")
    assert page.locator("#review-current [data-zoom-frame].zoomed").count() == 1
    page.keyboard.press("a")
    _wait_shown(page, items[4])

    # Back to item 4, change the decision to a rejection (wrong answer), then return to item 5.
    page.keyboard.press("b")
    page.locator(f"#review-back article[data-item='{items[3]}'][data-mode='revise']").wait_for()
    assert page.locator("#review-current").is_hidden()
    page.keyboard.press("r")
    page.keyboard.press("1")
    page.locator("#review-back").wait_for(state="hidden")
    assert "changed to reject" in page.locator("#review-flash").inner_text()
    assert _shown(page) == items[4]

    # 5: accept.
    page.keyboard.press("a")
    _wait_shown(page, items[5])
    assert page.locator("#review-session-count").inner_text() == "5"
    # The queue's figures in the head count on too (they once stayed at what the page loaded with).
    assert page.locator("#review-queue-decided").inner_text() == "5"
    assert page.locator("#review-queue-progress").evaluate("el => el.value") == 5
    assert page.locator("#review-today-count").inner_text() == "5"

    # The edit is recoverable: back to item 3, put back the turns as mapped (o) and save.
    for expected in (items[4], items[3], items[2]):
        page.keyboard.press("b")
        page.locator(f"#review-back article[data-item='{expected}']").wait_for()
    page.keyboard.press("e")
    page.keyboard.press("Escape")  # out of the text box; edit mode stays open
    page.keyboard.press("o")
    assert page.locator("#review-back textarea[name='turn_0_assistant']").input_value() == "Answer 2."
    page.keyboard.press("e")
    page.keyboard.press("Control+Enter")
    page.locator("#review-back").wait_for(state="hidden")
    assert _shown(page) == items[5]

    decided = {i.pk: i for i in ReviewItem.objects.filter(pk__in=items[:5])}
    assert [decided[pk].verdict for pk in items[:5]] == ["accept", "reject", "edit", "reject", "accept"]
    assert all(i.decided_by == reviewer for i in decided.values())
    assert Sample.objects.get(pk=decided[items[1]].target_id).reject_reason == "unreadable_image"
    edited = Sample.objects.get(pk=decided[items[2]].target_id)
    assert edited.turns == edited.original_turns and edited.original_turns[0]["assistant"] == "Answer 2."
    edits = Decision.objects.filter(item_id=items[2], verdict="edit_turn").order_by("id")
    assert [(e.before["assistant"], e.after["assistant"]) for e in edits] == [
        ("Answer 2.", "A corrected answer."),
        ("A corrected answer.", "Answer 2."),
    ]
    assert list(Decision.objects.filter(item_id=items[3]).order_by("id").values_list("verdict", "reason")) == [
        ("accept", ""),
        ("reject", "wrong_answer"),
    ]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_refused_queue_fill_shows_its_error_in_the_subset_page(login, live_server, curator):
    subset = subset_make()
    sample_make(subset=subset, source=source_make())
    page = login(curator)
    page.goto(f"{live_server.url}/subsets/{subset.pk}/")
    page.locator("form.fill input[name='overlap']").fill("150")
    page.locator("form.fill button[type='submit']").click()
    # htmx would drop the 400 answer and leave the curator with no word of what went wrong.
    page.locator("form.fill .errorlist").wait_for()
    assert "100" in page.locator("form.fill .errorlist").inner_text()
    assert not ReviewItem.objects.filter(subset=subset).exists()
