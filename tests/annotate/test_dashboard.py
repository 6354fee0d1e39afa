"""The dashboard: throughput per annotator, queue progress and agreement, plotted as inline SVG."""
import re

import pytest

from curation.services.review import review_decide
from curation.services.review_claims import review_claim_next
from tests.curation.review.builders import sample_queue_make

pytestmark = pytest.mark.django_db


def _work(queue, user, verdicts):
    for verdict in verdicts:
        item = review_claim_next(queue=queue, user=user)
        review_decide(item_id=item.pk, user=user, data={"verdict": verdict, "reason": "other" if verdict == "reject" else ""})


def test_the_dashboard_shows_throughput_progress_and_kappa_with_svg_plots(curator_client, reviewer, second_reviewer):
    queue, _ = sample_queue_make(count=4, overlap=1.0, images=0)
    _work(queue, reviewer, ["accept", "accept", "reject", "accept"])
    _work(queue, second_reviewer, ["accept", "accept", "reject", "reject"])
    response = curator_client.get("/dashboard/", {"window": "24h"})
    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(r'data-annotator="remy"><td>remy</td><td>4</td><td>1</td><td class="per-hour">4.0</td>', html)
    assert 'id="kappa-overall">κ = 0.500' in html
    assert html.count("<svg") == 4 and "cdn" not in html.lower()
    assert 'class="bar-alt"' in html  # the decided part of the queue bar
    assert queue.name in html


def test_an_unknown_window_falls_back_to_a_week(curator_client):
    response = curator_client.get("/dashboard/", {"window": "forever"})
    assert response.status_code == 200 and "<b>7d</b>" in response.content.decode()
