"""In a real browser at 1280x720: a curator edits a source's licence and sees it on its page, and deletes a source
through the page that lists what goes with it, after which the source list no longer shows it."""
import pytest

from curation.models import Source, SourceRow
from tests.factories import approved_subset_make, image_make, source_make


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_curator_edits_a_sources_licence_and_sees_it_on_the_page(small_page, login_small, live_server, curator):
    source = source_make(name="no-licence-yet", license="")
    login_small(curator)
    small_page.goto(f"{live_server.url}/sources/{source.pk}/")
    assert small_page.locator("#source-license").inner_text() == "—"
    actions = small_page.locator("#source-actions")
    assert actions.is_visible() and actions.bounding_box()["y"] + actions.bounding_box()["height"] <= 720
    assert "primary" not in (small_page.locator("#source-delete").get_attribute("class") or "")

    small_page.click("#source-edit")
    small_page.wait_for_url(f"{live_server.url}/sources/{source.pk}/edit/")
    small_page.fill("input[name=license]", "CC BY-NC 4.0")
    small_page.click("#source-edit-form button[type=submit]")

    small_page.wait_for_url(f"{live_server.url}/sources/{source.pk}/")
    assert small_page.locator("#source-license").inner_text() == "CC BY-NC 4.0"
    assert "Saved no-licence-yet." in small_page.locator(".messages").inner_text()
    assert Source.objects.get(pk=source.pk).license == "CC BY-NC 4.0"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_curator_deletes_a_source_through_the_page_that_says_what_goes(small_page, login_small, live_server, curator):
    source = source_make(name="to-be-deleted")
    for i in range(3):
        SourceRow.objects.create(source=source, row_number=i, data={"q": i}, image_shas=[image_make().sha256])
    approved_subset_make(samples=2, name="approved-from-it", source=source, by=curator)
    source_make(name="stays-here")
    login_small(curator)
    small_page.goto(f"{live_server.url}/sources/{source.pk}/")

    small_page.click("#source-delete")
    small_page.wait_for_url(f"{live_server.url}/sources/{source.pk}/delete/")
    goes = small_page.locator("#delete-goes").inner_text()
    assert "3 rows" in goes and "2 samples" in goes and "1 mapping version" in goes
    subsets = small_page.locator("#delete-subsets").inner_text()
    assert "approved-from-it" in subsets and "Approved" in subsets and "Deleted: it holds nothing else" in subsets
    assert "stored images" in small_page.locator("#delete-stays").inner_text()
    button = small_page.locator("#delete-button")
    assert button.is_visible() and button.bounding_box()["y"] + button.bounding_box()["height"] <= 720

    button.click()  # the box is not ticked yet: the browser asks for it and nothing is deleted
    assert small_page.url.endswith(f"/sources/{source.pk}/delete/") and Source.objects.filter(pk=source.pk).exists()
    small_page.check("#delete-confirm")
    button.click()

    small_page.wait_for_url(f"{live_server.url}/sources/")
    assert "Deleted to-be-deleted" in small_page.locator(".messages").inner_text()
    listing = small_page.locator("main").inner_text()
    assert "to-be-deleted" not in listing.replace("Deleted to-be-deleted", "") and "stays-here" in listing
    assert not Source.objects.filter(pk=source.pk).exists()
