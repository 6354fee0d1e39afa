"""In Chromium at 1280x720: a curator opens Register a source, sees the allowed data roots, browses into a folder,
picks a file (and an image folder) instead of typing their paths, previews the records and registers the source."""
import pytest

from curation.models import Source
from tests.curation.ingest.makers import write_image, write_jsonl


@pytest.mark.browser
@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_curator_picks_a_file_under_a_data_root_previews_and_registers_it(
    celery_worker_real, login_small, live_server, curator, tmp_path, settings
):
    root = (tmp_path / "data").resolve()
    write_image(root / "llava" / "pictures" / "red.png")
    picked = write_jsonl(root / "llava" / "chat.jsonl", [
        {"messages": [{"role": "user", "content": f"<image>What colour is square {i}?"},
                      {"role": "assistant", "content": "Red."}], "images": ["red.png"]}
        for i in range(3)
    ])
    (root / "other.jsonl").write_text('{"q": "a"}\n')
    settings.FINECURATE_DATA_ROOTS = [root, settings.FINECURATE_UPLOAD_DIR]

    page = login_small(curator)
    page.goto(f"{live_server.url}/sources/new/")
    roots = page.locator("#picker-location .data-roots li")
    assert roots.count() == 2 and roots.first.locator("code").inner_text() == str(root)

    roots.first.locator("button.open-root").click()
    page.locator("#picker-location tr[data-name=llava]").wait_for()
    assert page.locator("#picker-location tr[data-name]").evaluate_all("rows => rows.map(r => r.dataset.name)") == [
        "llava", "other.jsonl"]
    page.locator("#picker-location tr[data-name=llava] button.open-folder").click()
    chat_row = page.locator("#picker-location tr[data-name='chat.jsonl']")
    chat_row.wait_for()
    assert "jsonl" in chat_row.inner_text()
    chat_row.locator("button.pick").click()
    assert page.locator("#id_location").input_value() == str(picked)

    # The image folder: its own picker, opened on demand, which picks folders.
    page.click("#browse-image_root")
    page.locator("#picker-image_root button.open-root").first.click()
    page.locator("#picker-image_root tr[data-name=llava] button.open-folder").click()
    page.locator("#picker-image_root tr[data-name=pictures] button.pick").click()
    assert page.locator("#id_image_root").input_value() == str(root / "llava" / "pictures")
    assert page.locator("#id_location").input_value() == str(picked)  # the other picker left it alone

    page.fill("input[name=name]", "picked-chat")
    page.fill("input[name=license]", "CC0-1.0")
    page.click("#preview-button")
    page.locator("#source-preview .preview-record").first.wait_for()
    assert "What colour is square 0?" in page.locator("#source-preview .preview-record").first.inner_text()

    page.click("text=Register and ingest")
    page.wait_for_url(f"{live_server.url}/sources/*/")
    page.locator("#ingest-progress .job-progress[data-state=succeeded]").wait_for(timeout=30_000)
    source = Source.objects.get(name="picked-chat")
    assert source.location == str(picked)
    assert source.image_root == str(root / "llava" / "pictures")
    assert source.row_count == 3
