"""In a real browser at 1280x720: a ready export offers one archive and the commands to fetch and load it."""
import pytest

from tests.factories import approved_subset_make, export_build_now


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_ready_export_offers_the_archive_first_and_hides_deleting(login_small, live_server, curator):
    subset = approved_subset_make(samples=2, name="Ready one")
    export = export_build_now(subsets=[subset], format="parquet")
    page = login_small(curator)
    page.goto(f"{live_server.url}/exports/{export.pk}/")

    download = page.locator("#download-archive")
    assert download.is_visible() and "primary" in download.get_attribute("class")
    assert f"finecurate-export-{export.pk}.tar" in page.inner_text("#fetch-command")
    assert "Authorization: Token" in page.inner_text("#fetch-command")
    assert f'load_dataset("finecurate-export-{export.pk}", "ready-one")' in page.inner_text("#load-command")
    # Deleting is there, but folded away and never the first button on the page.
    assert not page.locator("button.danger").is_visible()
    assert page.locator("button.primary, a.button.primary").first.get_attribute("id") == "download-archive"
    with page.expect_download() as info:
        download.click()
    assert info.value.suggested_filename == f"finecurate-export-{export.pk}.tar"
