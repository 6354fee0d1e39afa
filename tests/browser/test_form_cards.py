"""In Chromium at 1280x720: every page whose business is a form shows it in the app's card style. Each form of the
page's content sits in a card, each field has its label above it (never beside or after it, never "Name:"), help
text is muted, the primary button comes first, and no field or button reaches past the right edge of the window."""
import os

import pytest

from curation.models import SourceRow
from curation.services.actions import action_schema_seed_unified
from curation.services.review import ItemEntry, review_items_enqueue, review_queue_create
from tests.factories import approved_subset_make, image_make, source_make

# What the page measures: per form of <main>, whether a .card holds it, and the fields (inputs, selects, text areas,
# buttons) that overflow the window or whose label is not above them.
MEASURE = """() => {
  const width = document.documentElement.clientWidth;
  const visible = (el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  const name = (el) => el.name || el.id || el.textContent.trim();
  return [...document.querySelectorAll("main form")].filter(visible).map((form) => {
    const fields = [...form.querySelectorAll("input:not([type=hidden]), select, textarea, button")].filter(visible);
    // A form sits in a card when all it shows does (a form may also wrap its cards, as the mapping editor does).
    const outsideCards = fields.filter((el) => !el.closest(".card")).map(name);
    const overflowing = fields.filter((el) => { const r = el.getBoundingClientRect(); return r.right > width || r.left < 0; })
      .map(name);
    const labelNotAbove = fields.filter((el) => el.labels && el.labels.length && !["checkbox", "radio"].includes(el.type))
      .filter((el) => {
        const field = el.getBoundingClientRect();
        // The label's own words: its first text (a label may wrap its field).
        const text = [...el.labels[0].childNodes].find((n) => n.nodeType === 3 && n.textContent.trim());
        if (!text) return false;
        const range = document.createRange();
        range.selectNodeContents(text);
        return !(range.getBoundingClientRect().bottom <= field.top + 1);
      }).map(name);
    // A label stands above its field, not wrapped around it (checkboxes and radio buttons sit inside theirs).
    const wrappedInLabel = fields.filter((el) => el.closest("label") && !["checkbox", "radio"].includes(el.type)).map(name);
    // Labels are words, not "Name:" (Django's as_p adds the colon).
    const colonLabels = [...form.querySelectorAll("label, legend")].filter(visible)
      .filter((el) => el.textContent.trim().endsWith(":")).map((el) => el.textContent.trim());
    // Help text is muted: no text of Django's own helptext class in the body colour.
    const loudHelp = [...form.querySelectorAll(".helptext")].filter(visible).map((el) => el.textContent.trim());
    // The primary action comes first among a form's submit buttons.
    const submits = fields.filter((el) => el.matches("button:not([type=button]), input[type=submit]"));
    const primaryIndex = submits.findIndex((el) => el.classList.contains("primary"));
    const primaryNotFirst = primaryIndex > 0 ? submits.slice(0, primaryIndex).map(name) : [];
    return {form: form.id || form.getAttribute("action") || "(form)", outsideCards, overflowing, labelNotAbove, wrappedInLabel,
            colonLabels, loudHelp, primaryNotFirst};
  });
}"""

PROBLEMS = ("outsideCards", "overflowing", "labelNotAbove", "wrappedInLabel", "colonLabels", "loudHelp", "primaryNotFirst")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_every_form_page_shows_its_forms_in_cards_with_labels_above_and_nothing_past_the_edge(
    login_small, small_page, live_server, admin, broker
):
    image = image_make()
    source = source_make(name="forms-src")
    SourceRow.objects.create(source=source, row_number=0, data={"question": "What?", "answer": "This."},
                             image_shas=[image.sha256])
    subset = approved_subset_make(samples=2, source=source, by=admin)
    queue = review_queue_create(kind="sample", subset=subset, by=None)
    review_items_enqueue(queue=queue, entries=[ItemEntry(target_id=s.pk) for s in subset.samples.all()])
    schema = action_schema_seed_unified()

    small_page.goto(f"{live_server.url}/login/")
    found = {"/login/": small_page.evaluate(MEASURE)}
    page = login_small(admin)
    pages = ["/sources/new/", f"/sources/{source.pk}/edit/", f"/sources/{source.pk}/delete/", f"/sources/{source.pk}/mapping/", f"/sources/{source.pk}/actions/",
             f"/actions/schemas/{schema.pk}/", "/exports/new/", f"/review/queues/{queue.pk}/settings/", "/token/",
             "/benchmarks/", "/review/bulk/", "/audit/", f"/subsets/{subset.pk}/hard-negatives/",
             f"/subsets/{subset.pk}/ratings/", f"/subsets/{subset.pk}/ratings/samples/"]
    for url in pages:
        response = page.goto(live_server.url + url)
        assert response.status == 200, url
        page.wait_for_load_state("networkidle")
        found[url] = page.evaluate(MEASURE)
        if os.environ.get("FORM_SCREENSHOTS"):
            page.screenshot(path=f"{os.environ['FORM_SCREENSHOTS']}/{url.strip('/').replace('/', '_') or 'home'}.png",
                            full_page=True)
    assert all(found.values()), {url: forms for url, forms in found.items() if not forms}  # each page has its form
    problems = [f"{url} {form['form']} {key}: {form[key]}" for url, forms in found.items() for form in forms
                for key in PROBLEMS if form[key]]
    assert not problems, "\n".join(problems)
    assert broker.sent() == []  # opening pages starts no job: nothing reached the real queues
