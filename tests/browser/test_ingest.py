"""In a real browser: a curator registers a source, watches its ingest reach 100%, and sees its rows."""
import pytest

from tests.curation.ingest.makers import write_image, write_jsonl


@pytest.mark.browser
@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_curator_registers_a_source_and_watches_it_ingest(
    celery_worker_real, login, live_server, curator, tmp_path
):
    write_image(tmp_path / "data" / "images" / "red.png")
    path = write_jsonl(
        tmp_path / "data" / "chat.jsonl",
        [
            {"messages": [{"role": "user", "content": f"<image>What colour is square {i}?"}, {"role": "assistant", "content": "Red."}], "images": ["images/red.png"]}
            for i in range(30)
        ]
        + ["{not json"],
    )
    page = login(curator)
    page.goto(f"{live_server.url}/sources/new/")
    page.fill("input[name=name]", "browser-chat")
    page.fill("input[name=location]", str(path))
    page.fill("input[name=license]", "CC0-1.0")
    page.click("text=Register and ingest")
    page.wait_for_url(f"{live_server.url}/sources/*/")

    progress = page.locator("#ingest-progress .job-progress")
    progress.and_(page.locator("[data-state=succeeded]")).wait_for(timeout=30_000)
    assert progress.locator(".job-percent").inner_text() == "100%"
    assert "1 rejected" in progress.inner_text()

    rows = page.locator("#source-rows tr.source-row")
    rows.first.wait_for()
    assert rows.count() == 25
    assert "What colour is square 0?" in rows.first.inner_text()
    assert page.locator("#source-rows img.thumb").first.evaluate("img => img.complete && img.naturalWidth > 0")
    assert page.locator("#source-status").inner_text() == "Ingested"

    page.click("text=Next")
    page.locator("#source-rows tr.source-row[data-row='25']").wait_for()
    assert page.locator("#source-rows tr.source-row").count() == 5
