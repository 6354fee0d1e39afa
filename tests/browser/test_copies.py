"""In a real browser: duplicates and leaks go from "run" to "audited" to "excluded from export"."""
import pytest

from curation.models import DuplicatePair, Export, ReviewQueue
from tests.curation.dedup.helpers import benchmark_folder, photo_subset
from tests.curation.review.builders import spot_check_pass


def _wait_scans(page) -> None:
    page.locator("#scans-finished").wait_for(timeout=180_000)
    page.reload()


@pytest.mark.browser
@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_duplicates_and_leaks_run_audited_and_excluded_from_export(celery_worker_real, login, live_server, curator, reviewer, tmp_path):
    subset, samples = photo_subset(name="Browser photos")
    folder = benchmark_folder(tmp_path)

    page = login(curator)
    # Run: find duplicates from the subset's copies page (linked from the subset page's panel).
    page.goto(f"{live_server.url}/subsets/{subset.pk}/")
    page.click("#copies-link")
    page.click("#find-duplicates")
    _wait_scans(page)
    assert "1 flagged" in page.locator("#copies-panel").inner_text()
    assert page.locator("#duplicate-pairs tr[data-status=open]").count() == 1

    # Register a benchmark from an image folder, then check leaks against it.
    page.goto(f"{live_server.url}/benchmarks/")
    page.fill("input[name=name]", "RocketBench")
    page.select_option("select[name=mode]", "folder")
    page.fill("input[name=path]", str(folder))
    page.click("#benchmark-form button[type=submit]")
    page.locator(".job-progress[data-state=succeeded]").wait_for(timeout=60_000)
    page.reload()
    assert page.locator("#benchmark-images").inner_text() == "2"
    page.goto(f"{live_server.url}/subsets/{subset.pk}/copies/")
    page.click("#check-leaks")
    _wait_scans(page)
    assert page.locator("#leak-pairs tr[data-status=open]").count() == 1
    assert "1 of 6 samples flagged" in page.locator("#contamination").inner_text()
    assert "effective rank" in page.locator("#diversity").inner_text()
    assert page.locator("#copies-panel svg polyline").count() == 1

    # Audit: a reviewer sees each pair side by side with the matched keypoints and decides from the keyboard.
    page.context.clear_cookies()
    page = login(reviewer)
    duplicate_queue = ReviewQueue.objects.get(kind="duplicate", subset=subset)
    page.goto(f"{live_server.url}/review/queues/{duplicate_queue.pk}/")
    item = page.locator("#review-current .pair-review")
    item.wait_for()
    assert page.locator("#review-current svg[data-keypoints] circle").count() > 10
    page.keyboard.press("a")  # copy, keep A
    page.locator("#review-current [data-empty]").wait_for()
    leak_queue = ReviewQueue.objects.get(kind="leak", subset=subset)
    page.goto(f"{live_server.url}/review/queues/{leak_queue.pk}/")
    page.locator("#review-current .pair-review[data-kind=leak]").wait_for()
    page.keyboard.press("l")  # leak, drop sample
    page.locator("#review-current [data-empty]").wait_for()
    assert DuplicatePair.objects.get(kind="duplicate", flagged=True).status == "keep_a"
    assert DuplicatePair.objects.get(kind="leak", flagged=True).status == "leak"

    # Excluded from export: approve and export; the manifest says what was dropped and why.
    page.context.clear_cookies()
    page = login(curator)
    page.goto(f"{live_server.url}/subsets/{subset.pk}/copies/")
    assert "1 confirmed" in page.locator("#contamination").inner_text()
    spot_check_pass(subset=subset, reviewer=reviewer)  # the approval policy's spot-check, not this test's subject
    page.goto(f"{live_server.url}/subsets/{subset.pk}/")
    page.click("#approve")
    page.locator("#approval .msg-success").wait_for()
    page.click("#export-subset")
    page.check("input[name=format][value=llava_jsonl]")
    page.check("fieldset[data-filter=copies] input[value=keep]")  # drop what the reviewers confirmed
    page.fill("input[name=name]", "Clean photos")
    page.click("#create-export")
    page.wait_for_url(f"{live_server.url}/exports/*/")
    page.locator("#export-status[data-state=succeeded]").wait_for(timeout=60_000)
    assert page.locator("#manifest-out").inner_text() == "4"
    manifest = page.locator("#manifest").inner_text()
    assert "confirmed benchmark leak" in manifest and "confirmed near-duplicate, other copy kept" in manifest
    export = Export.objects.get()
    copies = next(f for f in export.manifest["filters"] if f["name"] == "copies")
    assert copies["reasons"] == {"confirmed benchmark leak": 1, "confirmed near-duplicate, other copy kept": 1}
    assert export.sample_count == 4
