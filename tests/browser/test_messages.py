"""In a real browser at 1280x720: a message that says what a job is doing goes when the job leaves that state,
and a notice on the review page belongs to the item it came with."""
import re

import pytest

from curation.models import Export, Job
from curation.services.subsets import subset_approve
from tests.curation.ingest.makers import write_jsonl
from tests.curation.review.builders import sample_queue_make, spot_check_pass
from tests.factories import image_make, mapping_make, sample_make, source_make, subset_make
from tests.jobs import broker_purge, real_worker

WHILE_QUEUED = re.compile(r"queued|ingesting|being (read|written)|a worker will", re.IGNORECASE)


@pytest.mark.browser
@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_failed_ingest_shows_no_queued_message_beside_its_failed_badge(login_small, live_server, curator, tmp_path):
    broker_purge()
    path = write_jsonl(tmp_path / "data" / "broken.jsonl", ["{not json", "[1]"])  # every record rejected: the ingest fails
    page = login_small(curator)
    page.goto(f"{live_server.url}/sources/new/")
    page.fill("input[name=name]", "broken-chat")
    page.fill("input[name=location]", str(path))
    page.check("input[name=license_unknown]")
    page.click("text=Register and ingest")
    page.wait_for_url(f"{live_server.url}/sources/*/")
    # No worker yet: the job is queued and the page says so, beside its Queued bar.
    messages = page.locator("main .messages")
    assert "Registered broken-chat." in messages.inner_text()
    assert "Its ingest is queued" in messages.inner_text()
    assert page.locator("#ingest-progress .job-progress").get_attribute("data-state") == "queued"

    with real_worker(purge=False):
        page.locator("#ingest-progress .job-progress[data-state=failed]").wait_for(timeout=30_000)
        page.locator("#source-status", has_text="Failed").wait_for()
    # The confirmation stays (it is still true); nothing says the ingest is queued or under way any more.
    assert "Registered broken-chat." in page.locator("main .messages").inner_text()
    text = page.locator("main").inner_text()
    assert not WHILE_QUEUED.search(text), WHILE_QUEUED.search(text)
    # A fresh load of the page says the same.
    page.reload()
    assert not WHILE_QUEUED.search(page.locator("main").inner_text())


@pytest.mark.browser
@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_an_export_that_becomes_ready_no_longer_says_queued(login_small, live_server, curator, reviewer):
    broker_purge()
    subset = subset_make(name="Ready soon")
    source = source_make(name="ready-src", license="CC0-1.0")
    mapping = mapping_make(source=source, subset=subset)
    for i in range(3):
        sample_make(subset=subset, source=source, mapping=mapping, images=[image_make()], row_number=i,
                    turns=[{"user": f"What is {i}?", "assistant": str(i)}])
    spot_check_pass(subset=subset, reviewer=reviewer)
    subset_approve(subset=subset, by=curator)

    page = login_small(curator)
    page.goto(f"{live_server.url}/exports/new/?subsets={subset.pk}")
    page.check("input[name=format][value=parquet]")
    page.click("#create-export")
    page.wait_for_url(f"{live_server.url}/exports/*/")
    assert "queued" in page.locator("main .messages").inner_text()

    with real_worker(purge=False):
        page.locator("#export-status[data-state=succeeded]").wait_for(timeout=30_000)
    assert Export.objects.get().state == Export.State.SUCCEEDED
    assert page.locator("#export-state").inner_text() == "Ready"
    text = page.locator("main").inner_text()
    assert "queued" not in text.lower(), text[:400]
    assert Job.objects.get(kind="export").state == Job.State.SUCCEEDED


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_skip_notice_stays_with_the_item_after_the_skip_not_the_ones_after(login_small, live_server, reviewer):
    queue, _ = sample_queue_make(count=5)
    page = login_small(reviewer)
    page.goto(f"{live_server.url}/review/queues/{queue.pk}/")
    current = page.locator("#review-current article.review-item")
    assert current.locator(".item-position").inner_text() == "Item 1 of 5"
    first = current.get_attribute("data-item")
    second = page.locator("#review-ahead article.review-item").get_attribute("data-item")

    page.keyboard.press("s")
    page.locator(f"#review-current article.review-item[data-item='{second}']").wait_for()
    flash = page.locator("#review-flash")
    # Named as the reviewer saw it, not by its database id.
    assert flash.inner_text() == "Item 1 of 5 skipped."
    assert first != second

    page.keyboard.press("a")  # the item shown with the notice is decided: the notice goes with it
    page.locator(f"#review-current article.review-item:not([data-item='{second}'])").wait_for()
    assert "skipped" not in flash.inner_text()
    assert page.locator("#review-app").get_by_text("skipped").count() == 0
