"""In a real browser: a reviewer rates five judged turns on the four axes with keys 1-5 alone, and the
subset page's ratings panel then shows the judge-versus-human agreement table."""
import pytest

from curation.models import Rating, ReviewItem
from curation.services.jobs import job_claim, job_create
from curation.services.ratings import ratings_run
from curation.services.review import review_queue_create
from curation.services.review_fill import review_queue_fill
from tests.factories import image_make, sample_make, source_make, subset_make

HUMAN_KEYS = ["4", "5", "3", "1"]  # formatting, relevance, visual dependency, image correspondence


def _shown(page) -> int:
    return int(page.locator("#review-current article.review-item").get_attribute("data-item"))


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_reviewer_rates_five_turns_by_keyboard_and_the_agreement_table_shows_them(login, live_server, reviewer):
    subset = subset_make(name="Browser ratings")
    source = source_make()
    for i in range(6):
        sample_make(subset=subset, source=source, row_number=i, images=[image_make()],
                    turns=[{"user": f"How many cups are on the table in the image ({i})?", "assistant": f"There are {i + 1} cups."}])
    ratings_run(job=job_claim(job_id=job_create(kind="rate_quality", target=subset, params={"judge": "builtin"}).pk))
    queue = review_queue_create(kind="rating", subset=subset, by=None)
    review_queue_fill(queue=queue, fraction=1.0, seed=1)
    items = list(ReviewItem.objects.filter(queue=queue).order_by("id").values_list("pk", flat=True))

    page = login(reviewer)
    page.goto(f"{live_server.url}/review/queues/{queue.pk}/")
    for n in range(5):
        page.locator(f"#review-current article.review-item[data-item='{items[n]}']").wait_for()
        assert page.locator("#review-current .rating-axis.current").get_attribute("data-axis") == "formatting"
        for key in HUMAN_KEYS:
            page.keyboard.press(key)
        if n < 4:
            page.locator(f"#review-current article.review-item[data-item='{items[n + 1]}']").wait_for()
    page.wait_for_function("() => document.getElementById('review-session-count').textContent === '5'")

    assert Rating.objects.filter(rater=reviewer).count() == 20
    assert set(Rating.objects.filter(rater=reviewer, axis="formatting").values_list("score", flat=True)) == {4}

    page.goto(f"{live_server.url}/subsets/{subset.pk}/")
    table = page.locator("#ratings table#agreement")
    table.wait_for()
    assert "5 turns rated by people" in page.locator("#ratings").inner_text()
    assert table.locator("tr[data-axis='formatting'] td.pairs").inner_text() == "5"
    assert table.locator("tr[data-axis='image_correspondence'] td.pairs").inner_text() == "0"  # the built-in judge left it empty
    assert page.locator("#ratings .rating-axis-histogram[data-axis='relevance']").is_visible()
