"""In a real browser: a curator approves a subset, exports it, watches the export succeed and reads its manifest."""
import pytest

from curation.models import Export, Subset
from tests.curation.review.builders import spot_check_pass
from tests.factories import image_make, mapping_make, sample_make, source_make, subset_make


@pytest.mark.browser
@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_curator_approves_a_subset_exports_it_and_sees_the_manifest(celery_worker_real, login, live_server, curator, reviewer):
    subset = subset_make(name="Browser charts")
    source = source_make(name="charts-src", license="CC BY 4.0")
    mapping = mapping_make(source=source, subset=subset)
    for i in range(3):
        sample_make(subset=subset, source=source, mapping=mapping, images=[image_make()], row_number=i,
                    turns=[{"user": f"Value of bar {i}?", "assistant": str(i)}])
    spot_check_pass(subset=subset, reviewer=reviewer)

    page = login(curator)
    page.goto(f"{live_server.url}/subsets/{subset.pk}/")
    page.click("#approve")
    page.locator("#approval .msg-success").wait_for()
    assert "is approved for export" in page.locator("#approval").inner_text()
    # The title's badge changes with the panel (it once kept saying Draft beside "approved for export").
    assert page.locator("#subset-status").inner_text() == "Approved"
    assert Subset.objects.get(pk=subset.pk).status == Subset.Status.APPROVED

    page.click("#export-subset")
    page.wait_for_url(f"{live_server.url}/exports/new/?subsets={subset.pk}")
    assert page.locator(f"input[name=subsets][value='{subset.pk}']").is_checked()
    page.check("input[name=format][value=parquet]")
    page.fill("input[name=name]", "Charts for training")
    page.click("#create-export")
    page.wait_for_url(f"{live_server.url}/exports/*/")

    # The worker writes the shards; the page polls and shows the files and the manifest when it is done.
    page.locator("#export-status[data-state=succeeded]").wait_for(timeout=30_000)
    assert page.locator("#export-state").inner_text() == "Ready"
    assert page.locator("#manifest-out").inner_text() == "3"
    assert "data/browser-charts/train-00000-of-00001.parquet" in page.locator("#files").inner_text()
    assert "charts-src" in page.locator("#manifest").inner_text()
    export = Export.objects.get()
    assert export.state == Export.State.SUCCEEDED and export.name == "Charts for training"
