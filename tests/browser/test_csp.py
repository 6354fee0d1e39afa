"""In Chromium: the main pages load under the Content-Security-Policy with no violation, and htmx still works."""
import pytest

from curation.models import Mapping, SourceRow
from curation.services.review import ItemEntry, review_items_enqueue, review_queue_create
from tests.factories import approved_subset_make, export_build_now, image_make, source_make

# Every violation the page reports, collected before any page script runs (init scripts are not subject to the CSP).
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + (e.sourceFile || "") + ":" + e.lineNumber);
});
"""


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_main_pages_load_under_the_csp_with_no_violation(login, live_server, admin, broker):
    image = image_make()
    source = source_make(name="csp-src")
    SourceRow.objects.create(source=source, row_number=0, data={"question": "What?", "answer": "This."}, image_shas=[image.sha256])
    subset = approved_subset_make(samples=2, source=source, by=admin)
    queue = review_queue_create(kind="sample", subset=subset, by=None)
    review_items_enqueue(queue=queue, entries=[ItemEntry(target_id=s.pk) for s in subset.samples.all()])
    export = export_build_now(subsets=[subset], format="llava_jsonl", by=admin)
    assert Mapping.objects.filter(source=source).exists()

    page = login(admin)
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    page.context.add_init_script(RECORD_VIOLATIONS)
    pages = ["/", "/sources/", f"/sources/{source.pk}/", f"/sources/{source.pk}/mapping/", "/subsets/",
             f"/subsets/{subset.pk}/", "/review/", f"/review/queues/{queue.pk}/", "/exports/", "/exports/new/",
             f"/exports/{export.pk}/", "/token/", "/audit/", "/dashboard/", "/api/docs/", "/admin/",
             # The capabilities' pages: ratings, copies and benchmarks, hard negatives, GUI actions.
             f"/subsets/{subset.pk}/ratings/", f"/subsets/{subset.pk}/ratings/samples/", f"/subsets/{subset.pk}/copies/",
             "/benchmarks/", f"/subsets/{subset.pk}/hard-negatives/", "/actions/schemas/", f"/sources/{source.pk}/actions/"]
    seen = {}
    for url in pages:
        response = page.goto(live_server.url + url)
        assert response.status == 200, url
        assert "script-src 'self'" in response.headers["content-security-policy"], url
        page.wait_for_load_state("networkidle")
        seen[url] = page.evaluate("window.__cspViolations")
    # htmx works under the policy: the mapping page's shuffle button (a static script) triggers an htmx preview.
    page.goto(f"{live_server.url}/sources/{source.pk}/mapping/")
    seed = page.locator("#id_seed").input_value()
    with page.expect_response(lambda r: "/mapping/preview/" in r.url):
        page.click("#shuffle-button")
    assert page.locator("#id_seed").input_value() != seed
    seen["mapping shuffle"] = page.evaluate("window.__cspViolations")
    violations = {url: v for url, v in seen.items() if v}
    assert not violations, violations
    assert not [m for m in console if "Content Security Policy" in m], console
    assert broker.sent() == []  # opening pages starts no job: nothing reached the real queues
