"""In a real browser at 1280x720: every chart has axes with tick labels and a title, and its text fits.

The charts are drawn from real decisions (two reviewers with long names on a queue with a long name) and
real embeddings (the default SSCD engine on the subset's images); the browser measures what it laid out.
"""
import pytest

from curation.models import SampleImage
from curation.services.embeddings import embeddings_compute
from curation.services.review import review_decide
from curation.services.review_claims import review_claim_next
from tests.curation.review.builders import sample_queue_make

LONG_QUEUE = "Spot-check of the WikiHow WWW instruction-following subset, second pass over the MMMU leaks"
LONG_NAMES = ("annotator.with.a.remarkably.long.name.from.the.WWW.team", "MMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMM")

# For each svg.chart: texts outside the svg, texts that overlap each other or a bar, and what the chart has.
MEASURE = """() => Array.from(document.querySelectorAll("svg.chart")).map((svg) => {
  const box = svg.getBoundingClientRect();
  const own = (t) => Array.from(t.childNodes).filter((n) => n.nodeType === 3).map((n) => n.data).join("");
  const texts = Array.from(svg.querySelectorAll("text")).map((t) => ({text: own(t), css: t.getAttribute("class") || "",
      full: t.querySelector("title") ? t.querySelector("title").textContent : "", r: t.getBoundingClientRect()}));
  const rects = Array.from(svg.querySelectorAll("rect")).map((r) => r.getBoundingClientRect());
  const meets = (a, b) => Math.min(a.right, b.right) - Math.max(a.left, b.left) > 0.5
                       && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 0.5;
  const outside = texts.filter((t) => t.r.left < box.left - 0.5 || t.r.right > box.right + 0.5
                                   || t.r.top < box.top - 0.5 || t.r.bottom > box.bottom + 0.5).map((t) => t.text);
  const overlaps = [];
  texts.forEach((a, i) => texts.slice(i + 1).forEach((b) => { if (meets(a.r, b.r)) overlaps.push([a.text, b.text]); }));
  texts.forEach((a) => rects.forEach((r) => { if (r.width > 0 && meets(a.r, r)) overlaps.push([a.text, "a bar"]); }));
  return {title: svg.getAttribute("aria-label"), outside, overlaps, texts: texts.map((t) => [t.text, t.css, t.full]),
          axes: svg.querySelectorAll("line.axis").length, width: box.width};
})"""


def _decide(queue, user, verdicts):
    for verdict in verdicts:
        item = review_claim_next(queue=queue, user=user)
        review_decide(item_id=item.pk, user=user, data={"verdict": verdict, "reason": "other" if verdict == "reject" else ""})


def _assert_charts_fit(charts, expected):
    assert len(charts) == expected, [c["title"] for c in charts]
    for chart in charts:
        assert chart["width"] > 300, chart["title"]
        assert not chart["outside"], (chart["title"], "text outside the chart", chart["outside"])
        assert not chart["overlaps"], (chart["title"], "text over other text or a bar", chart["overlaps"][:5])
        kinds = [css for _, css, _ in chart["texts"]]
        assert chart["axes"] >= 1 and kinds.count("tick") >= 2, (chart["title"], "an axis with tick labels", chart["texts"])
        assert "axis-title" in kinds, (chart["title"], "an axis title", chart["texts"])


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_dashboard_and_spectrum_charts_have_axes_and_their_labels_fit(login_small, live_server, curator, reviewer, second_reviewer):
    reviewer.username, second_reviewer.username = LONG_NAMES
    reviewer.save()
    second_reviewer.save()
    queue, samples = sample_queue_make(count=8, overlap=1.0, images=1)
    queue.name = LONG_QUEUE
    queue.save()
    _decide(queue, reviewer, ["accept", "accept", "reject", "accept", "accept", "reject", "accept", "accept"])
    _decide(queue, second_reviewer, ["accept", "reject", "reject", "accept"])

    page = login_small(curator)
    for window in ("24h", "7d", "30d"):
        page.goto(f"{live_server.url}/dashboard/?window={window}")
        charts = page.evaluate(MEASURE)
        _assert_charts_fit(charts, expected=4)
    # A name too long for its column is cut, and keeps its whole as a tooltip.
    shown = {text: full for chart in charts for text, _, full in chart["texts"]}
    assert any(full == LONG_QUEUE and text.endswith("…") for text, full in shown.items()), shown
    assert any(full == LONG_NAMES[1] and text.endswith("…") for text, full in shown.items()), shown
    assert "decisions per active hour, by annotator" in shown and "Cohen's kappa (1 = full agreement, 0 = chance)" in shown

    image_ids = list(SampleImage.objects.filter(sample__subset=samples[0].subset).values_list("image_id", flat=True))
    assert embeddings_compute(image_ids=image_ids)["embedded"] == len(image_ids) == 8
    page.goto(f"{live_server.url}/subsets/{samples[0].subset_id}/copies/")
    charts = page.evaluate(MEASURE)
    _assert_charts_fit(charts, expected=1)
    texts = [text for text, _, _ in charts[0]["texts"]]
    assert "eigenvalue (log scale)" in texts and "rank, largest first" in texts and "1" in texts
