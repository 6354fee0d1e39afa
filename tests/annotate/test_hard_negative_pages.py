"""Pages of hard negatives: a curator starts a run, sees the counts; the subset page panel shows the figures;
the review page highlights the changed span, escaping the dataset's text."""
import re

import pytest
from django.core.management import call_command

from curation.models import HardNegative, Job, ReviewQueue
from tests.curation.services.test_hard_negatives import caption_subset
from tests.factories import image_make, sample_make, source_make, subset_make

pytestmark = pytest.mark.django_db


def test_a_curator_starts_a_run_from_the_page(curator_client, reviewer_client, nobody_client):
    subset, _ = caption_subset(2)
    url = f"/subsets/{subset.pk}/hard-negatives/"
    page = curator_client.get(url).content.decode()
    assert 'id="hn-generate"' in page and 'value="transparency"' in page
    response = curator_client.post(url, {"ratio": 6, "attributes": ["colour", "object"], "engine": "builtin"})
    assert response.status_code == 302
    job = Job.objects.get(kind="hard_negatives")
    assert job.params == {"subset_id": subset.pk, "ratio": 6, "attributes": ["colour", "object"], "engine": "builtin"}
    assert reviewer_client.post(url, {"ratio": 6, "attributes": ["colour"], "engine": "builtin"}).status_code == 403
    assert 'id="hn-generate"' not in reviewer_client.get(url).content.decode()
    assert nobody_client.get(url).status_code == 403
    bad = curator_client.post(url, {"ratio": 6, "attributes": ["colour"], "engine": "llm"})
    assert bad.status_code == 400 and "no LLM endpoint" in bad.content.decode()


def test_counts_and_the_subset_panel_show_what_was_made(curator_client):
    subset, _ = caption_subset(3)
    call_command("generate_hard_negatives", subset.name)
    page = curator_client.get(f"/subsets/{subset.pk}/hard-negatives/").content.decode()
    colour = HardNegative.objects.filter(subset=subset, attribute="colour", agent_verdict="passed").count()
    assert re.search(rf'data-attribute="colour">.*?<td class="hn-passed">{colour}</td>', page, re.S)
    assert 'hard-negative-panel' in curator_client.get(f"/subsets/{subset.pk}/").content.decode()
    panel = curator_client.get(f"/subsets/{subset.pk}/hard-negatives/panel/", headers={"HX-Request": "true"})
    assert panel.status_code == 286  # the job is finished: the panel stops polling
    html = panel.content.decode()
    assert 'class="hn-ratio"' in html and "No negative reviewed yet" in html and 'id="hn-review-link"' in html


def test_the_review_page_highlights_the_change_and_escapes_the_caption(reviewer_client):
    subset = subset_make()
    sample_make(subset=subset, source=source_make(), images=[image_make()],
                turns=[{"user": "Describe.", "assistant": "A red bus <script>alert(1)</script> on the street."}])
    call_command("generate_hard_negatives", subset.name, "--attributes", "colour")
    queue = ReviewQueue.objects.get(kind="hard_negative", subset=subset)
    html = reviewer_client.get(f"/review/queues/{queue.pk}/").content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert re.search(r'data-negative-text>A <mark>\w+</mark> bus &lt;script&gt;', html)
    assert 'data-key="v"' in html and 'data-key="x"' in html and 'data-reason-key="4"' in html and 'name="text"' in html
    assert "the visual check is yours" in html


def test_an_auditor_sees_every_agent_step_of_a_negative(curator_client, nobody_client):
    subset, _ = caption_subset(2)
    call_command("generate_hard_negatives", subset.name)
    corrected = HardNegative.objects.filter(subset=subset, correction_rounds__gte=1).first()
    html = curator_client.get(f"/hard-negatives/{corrected.pk}/").content.decode()
    assert html.count('data-agent="verifier"') == corrected.steps.filter(agent="verifier").count() >= 2
    assert 'data-agent="corrector"' in html and "&quot;feedback&quot;" in html
    assert f'href="/hard-negatives/{corrected.pk}/"' in curator_client.get(f"/subsets/{subset.pk}/hard-negatives/").content.decode()
    assert nobody_client.get(f"/hard-negatives/{corrected.pk}/").status_code == 403
