"""In a real browser: a curator registers COCO captions as a joined source (images + annotations, grouped per
image), previews the join before ingest, and sees the declaration and what the join matched on its page."""
import pytest

from curation.models import Source, SourceRow
from tests.test_published_layouts_end_to_end import COCO_CAPTIONS, coco_captions_files


@pytest.mark.browser
@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_curator_registers_a_joined_source_previews_it_and_sees_the_join(celery_worker_real, login, live_server,
                                                                        curator, tmp_path):
    written, fields = coco_captions_files(tmp_path)
    page = login(curator)
    page.goto(f"{live_server.url}/sources/new/")
    page.fill("input[name=name]", "COCO captions val2014")
    page.fill("input[name=location]", str(written.file))
    page.fill("input[name=image_root]", fields["image_root"])
    page.fill("input[name=join_records_key]", "annotations")
    page.fill("input[name=join_left_key]", "id")
    page.fill("input[name=join_right_key]", "image_id")
    page.check("input[name=join_many]")
    page.fill("input[name=join_column]", "captions")
    page.select_option("select[name=label_origin]", "human")
    page.fill("input[name=task_name]", "captioning")

    # Without a records key the preview names the file's lists, for the curator to pick one.
    page.click("#preview-button")
    errors = page.locator("#source-preview #source-preview-errors")
    errors.wait_for()
    assert "licenses (1), images (2), annotations (11); choose the key of one" in errors.inner_text()
    page.fill("input[name=records_key]", "images")
    page.click("#preview-button")
    join = page.locator("#source-preview #preview-join")
    join.wait_for()
    assert "of the first 2 records, 2 matched" in " ".join(join.inner_text().split())
    assert COCO_CAPTIONS[391895][0] in page.locator("#source-preview .preview-record").first.inner_text()

    page.click("text=Register and ingest")
    page.wait_for_url(f"{live_server.url}/sources/*/")
    page.locator("#ingest-progress .job-progress[data-state=succeeded]").wait_for(timeout=30_000)
    assert "1 rejected" in page.locator("#ingest-progress .job-progress").inner_text()  # the orphan annotation
    page.reload()
    declared = " ".join(page.locator("#source-join").inner_text().split())
    assert "id = image_id of this file (records under annotations), one-to-many" in declared
    assert "2 matched, 0 without a match, 1 joined keys unused" in declared
    assert page.locator("#source-label-origin").inner_text() == "Human-written"
    source = Source.objects.get(name="COCO captions val2014")
    rows = SourceRow.objects.filter(source=source).order_by("row_number")
    assert [[c["caption"] for c in r.data["captions"]] for r in rows] == list(COCO_CAPTIONS.values())
