"""In a real browser: a curator asks for a mapping, edits it once, sees the preview follow, accepts, sees samples."""
import pytest

from curation.models import Mapping, Sample
from tests.curation.mapping import layouts


@pytest.mark.browser
@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_curator_accepts_a_suggestion_after_one_edit_and_sees_samples(celery_worker_real, login, live_server, curator):
    source = layouts.source_with_rows("ScienceQA-mini", layouts.scienceqa_records())
    page = login(curator)
    page.goto(f"{live_server.url}/sources/{source.pk}/mapping/")
    page.click("#suggest-button")
    # The suggestion job runs on the real worker; the page reloads to show version 1 with its reasons.
    page.locator("#shown-version").wait_for(timeout=30_000)
    assert "took column 'choices' as options" in page.locator("#reasons").inner_text()
    first = page.locator("#preview .preview-row[data-row='0'] .assistant")
    assert first.inner_text() == "A. West Virginia"

    # One edit in the form: answers as the bare letter. The preview re-renders as the curator types.
    page.select_option("#id_answer_format", "letter")
    page.locator("#preview .preview-row[data-row='0'] .assistant").filter(has_text="A").and_(
        page.locator("#preview .preview-row[data-row='0'] .assistant:text-is('A')")
    ).wait_for()
    assert '"format": "letter"' in page.locator("#id_spec_json").input_value()

    page.click("#accept-button")
    page.wait_for_url(f"{live_server.url}/sources/{source.pk}/mapping/?version=2")
    assert page.locator("#shown-status").inner_text() == "Accepted"
    page.locator("#apply-progress .job-progress[data-state=succeeded]").wait_for(timeout=30_000)
    page.locator("#applied-count:text-is('3')").wait_for()
    samples = page.locator("#applied .applied-sample")
    assert samples.count() == 3
    assert samples.first.locator(".assistant").inner_text() == "A"
    assert samples.first.locator("img.thumb").evaluate("img => img.complete && img.naturalWidth > 0")

    accepted = Mapping.objects.get(source=source, status=Mapping.Status.ACCEPTED)
    assert accepted.version == 2 and accepted.engine == ""
    assert set(Sample.objects.filter(source=source).values_list("mapping_id", flat=True)) == {accepted.pk}
