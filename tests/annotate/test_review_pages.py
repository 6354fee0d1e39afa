"""The review pages: My queue, the keyboard work page (claim-ahead, one request per decision, back),
the subset panel, queue settings and the curator's bulk page."""
import json
import re
from datetime import timedelta

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.utils import timezone

from curation.models import Decision, Job, ReviewItem, ReviewQueue, Sample
from curation.services.review import review_decide
from curation.services.review_claims import review_claim_next
from tests.curation.review.builders import sample_queue_make

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def _articles(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<article class="review-item" data-item="(\d+)"', html)]


def _flash(response) -> dict:
    return json.loads(response["X-Review-Flash"])


def test_my_queue_lists_queues_with_their_progress(reviewer_client, reviewer):
    queue, _ = sample_queue_make(count=3)
    item = review_claim_next(queue=queue, user=reviewer)
    review_decide(item_id=item.pk, user=reviewer, data={"verdict": "accept"})
    html = reviewer_client.get("/review/").content.decode()
    assert queue.name in html and "1 / 3 decided (33%)" in html
    assert f'href="/review/queues/{queue.pk}/"' in html


def test_my_queue_offers_no_start_when_only_second_reviews_of_your_own_items_are_open(
    reviewer_client, second_reviewer, reviewer
):
    queue, _ = sample_queue_make(count=1, overlap=1.0)
    item = review_claim_next(queue=queue, user=reviewer)
    review_decide(item_id=item.pk, user=reviewer, data={"verdict": "accept"})
    assert ReviewItem.objects.filter(queue=queue, round=2, state="queued").count() == 1
    start = f'class="button primary" href="/review/queues/{queue.pk}/"'
    own = reviewer_client.get("/review/").content.decode()
    assert start not in own and "second reviews of your own" in own
    other = Client()
    other.force_login(second_reviewer)
    assert start in other.get("/review/").content.decode()


def test_the_work_page_shows_one_item_and_holds_the_next_rendered_and_hidden(reviewer_client, reviewer):
    queue, _ = sample_queue_make(count=4)
    html = reviewer_client.get(f"/review/queues/{queue.pk}/").content.decode()
    current, ahead = _articles(html)
    held = set(ReviewItem.objects.filter(assignee=reviewer, state="claimed").values_list("pk", flat=True))
    assert held == {current, ahead}
    assert re.search(rf'<div id="review-ahead" class="review-slot" hidden>\s*<article class="review-item" data-item="{ahead}"', html)
    # Shortcut keys on the page and in the ? overlay.
    assert 'data-key="a"' in html and 'data-key="r"' in html and 'data-reason-key="5"' in html
    assert 'id="review-help"' in html and "Wrong answer" in html and "Back to your previous item" in html
    assert "/static/js/review.js" in html
    # Reloading the page shows the same two items: claims are kept, not multiplied.
    assert _articles(reviewer_client.get(f"/review/queues/{queue.pk}/").content.decode()) == [current, ahead]


def test_one_decision_request_returns_the_item_after_next(reviewer_client, reviewer):
    queue, _ = sample_queue_make(count=4)
    current, ahead = _articles(reviewer_client.get(f"/review/queues/{queue.pk}/").content.decode())
    response = reviewer_client.post(
        f"/review/items/{current}/decide/", {"verdict": "reject", "reason": "formatting", "showing": ahead}, headers=HTMX
    )
    assert response.status_code == 200
    (new_ahead,) = _articles(response.content.decode())
    assert new_ahead not in (current, ahead)
    decided = ReviewItem.objects.get(pk=current)
    assert decided.state == "decided" and Sample.objects.get(pk=decided.target_id).reject_reason == "formatting"
    held = set(ReviewItem.objects.filter(assignee=reviewer, state="claimed").values_list("pk", flat=True))
    assert held == {ahead, new_ahead}


def test_the_item_about_to_be_shown_gets_a_fresh_lease(reviewer_client):
    queue, _ = sample_queue_make(count=3)
    current, ahead = _articles(reviewer_client.get(f"/review/queues/{queue.pk}/").content.decode())
    soon = timezone.now() + timedelta(seconds=5)
    ReviewItem.objects.filter(pk=ahead).update(lease_expires_at=soon)
    reviewer_client.post(f"/review/items/{current}/decide/", {"verdict": "accept", "showing": ahead}, headers=HTMX)
    assert ReviewItem.objects.get(pk=ahead).lease_expires_at > soon + timedelta(seconds=60)


def test_a_decision_the_form_refuses_keeps_the_reviewer_on_the_item(reviewer_client):
    queue, _ = sample_queue_make(count=2)
    current, ahead = _articles(reviewer_client.get(f"/review/queues/{queue.pk}/").content.decode())
    response = reviewer_client.post(f"/review/items/{current}/decide/", {"verdict": "reject", "showing": ahead}, headers=HTMX)
    assert response.status_code == 422
    assert "Choose a reason" in _flash(response)["message"]
    assert ReviewItem.objects.get(pk=current).state == "claimed"


def test_an_item_lost_to_another_reviewer_reports_it_and_still_moves_on(reviewer_client, reviewer, second_reviewer):
    queue, _ = sample_queue_make(count=4)
    current, ahead = _articles(reviewer_client.get(f"/review/queues/{queue.pk}/").content.decode())
    ReviewItem.objects.filter(pk=current).update(assignee=second_reviewer)
    response = reviewer_client.post(f"/review/items/{current}/decide/", {"verdict": "accept", "showing": ahead}, headers=HTMX)
    assert response.status_code == 409
    assert "another reviewer" in _flash(response)["message"]
    assert len(_articles(response.content.decode())) == 1
    assert not Decision.objects.filter(item_id=current).exists()


def test_going_back_shows_your_last_item_and_deciding_again_appends_a_row(reviewer_client, reviewer):
    queue, _ = sample_queue_make(count=3)
    current, ahead = _articles(reviewer_client.get(f"/review/queues/{queue.pk}/").content.decode())
    reviewer_client.post(f"/review/items/{current}/decide/", {"verdict": "accept", "showing": ahead}, headers=HTMX)
    back = reviewer_client.get(f"/review/queues/{queue.pk}/previous/", headers=HTMX)
    assert back.status_code == 200
    html = back.content.decode()
    assert _articles(html) == [current] and 'data-mode="revise"' in html and "Your decision was: accept" in html
    assert reviewer_client.get(f"/review/queues/{queue.pk}/previous/?before={current}", headers=HTMX).status_code == 204
    reviewer_client.post(f"/review/items/{current}/decide/", {"verdict": "reject", "reason": "formatting", "mode": "revise"}, headers=HTMX)
    again = reviewer_client.get(f"/review/queues/{queue.pk}/previous/", headers=HTMX).content.decode()
    assert re.search(r'value="formatting" data-reason-key="3" checked', again)
    revised = reviewer_client.post(
        f"/review/items/{current}/decide/", {"verdict": "reject", "reason": "harmful", "mode": "revise"}, headers=HTMX
    )
    assert revised.status_code == 200 and "changed to reject" in _flash(revised)["message"]
    assert list(Decision.objects.filter(item_id=current).order_by("id").values_list("verdict", flat=True)) == ["accept", "reject", "reject"]


def test_skipping_gives_the_item_back_and_brings_another(reviewer_client, reviewer):
    queue, _ = sample_queue_make(count=4)
    current, ahead = _articles(reviewer_client.get(f"/review/queues/{queue.pk}/").content.decode())
    response = reviewer_client.post(f"/review/items/{current}/skip/", {"showing": ahead}, headers=HTMX)
    (next_id,) = _articles(response.content.decode())
    assert next_id not in (current, ahead)
    skipped = ReviewItem.objects.get(pk=current)
    assert skipped.state == "queued" and skipped.priority == -1


def test_without_javascript_a_decision_redirects_back_to_the_work_page(reviewer_client):
    queue, _ = sample_queue_make(count=2)
    current, _ahead = _articles(reviewer_client.get(f"/review/queues/{queue.pk}/").content.decode())
    response = reviewer_client.post(f"/review/items/{current}/decide/", {"verdict": "accept"})
    assert response.status_code == 302 and response["Location"] == f"/review/queues/{queue.pk}/"
    assert ReviewItem.objects.get(pk=current).state == "decided"


def test_an_edit_from_the_page_is_saved_as_an_audited_revision(reviewer_client):
    queue, _ = sample_queue_make(count=1)
    (current,) = _articles(reviewer_client.get(f"/review/queues/{queue.pk}/").content.decode())
    response = reviewer_client.post(
        f"/review/items/{current}/decide/",
        {"verdict": "edit", "turn_0_user": "Question 0 about the picture?", "turn_0_assistant": "Answer zero.", "turn_1_user": "And the colour?", "turn_1_assistant": "Red."},
        headers=HTMX,
    )
    assert response.status_code == 200 and 'data-empty="1"' in response.content.decode()
    assert list(Decision.objects.filter(item_id=current).order_by("id").values_list("verdict", flat=True)) == ["edit_turn", "edit"]


def test_an_empty_queue_says_so(reviewer_client):
    queue, _ = sample_queue_make(count=1)
    ReviewItem.objects.filter(queue=queue).update(state="decided", verdict="accept")
    html = reviewer_client.get(f"/review/queues/{queue.pk}/").content.decode()
    assert not _articles(html) and "Nothing left for you in this queue" in html


def test_the_subset_panel_shows_the_acceptance_rate_and_its_interval(curator_client, reviewer):
    queue, samples = sample_queue_make(count=4)
    for verdict in ("accept", "accept", "reject"):
        item = review_claim_next(queue=queue, user=reviewer)
        review_decide(item_id=item.pk, user=reviewer, data={"verdict": verdict, "reason": "harmful" if verdict == "reject" else ""})
    response = curator_client.get(f"/review/subsets/{samples[0].subset_id}/panel/", headers=HTMX)
    assert response.status_code == 286  # no fill job running: nothing to poll
    html = response.content.decode()
    assert "66.7%" in html and "95% interval 20.8–93.9%" in html and "(2 of 3 reviewed)" in html
    assert "harmful 1" in html
    # A text box: a number box's min/max would judge the typed percentage against the fraction's bounds.
    assert re.search(r'<input type="text" name="percent" value="100" inputmode="decimal"', html)


def test_the_subset_panel_template_loads_its_figures_when_included_with_only_the_subset():
    _, samples = sample_queue_make(count=1)
    html = render_to_string("annotate/subset_review_panel.html", {"subset": samples[0].subset})
    assert f'hx-get="/review/subsets/{samples[0].subset_id}/panel/"' in html and 'hx-trigger="load"' in html


def test_queueing_a_spot_check_from_the_panel_starts_a_fill_job(curator_client, curator):
    _, samples = sample_queue_make(count=2)
    subset = samples[0].subset
    response = curator_client.post(
        "/review/queues/fill/", {"subset": subset.pk, "kind": "sample", "percent": "2%", "seed": "5", "overlap": "10"}, headers=HTMX
    )
    assert response.status_code == 200
    job = Job.objects.get(kind=Job.Kind.QUEUE_FILL)
    assert job.params == {"fraction": 0.02, "seed": 5} and job.created_by == curator
    assert ReviewQueue.objects.get(subset=subset).overlap_rate == pytest.approx(0.1)
    assert f'id="job-{job.pk}"' in response.content.decode()
    # The subset page's approval panel refreshes itself on this event: it now has open items and a job to show.
    assert response["HX-Trigger"] == "subset-changed"
    approval = curator_client.get(f"/subsets/{subset.pk}/?part=approval", headers=HTMX).content.decode()
    assert 'hx-trigger="subset-changed from:body"' in approval and "0 of 2 reviewed" in approval
    bad = curator_client.post("/review/queues/fill/", {"subset": subset.pk, "kind": "sample", "percent": "0", "seed": "5"}, headers=HTMX)
    assert bad.status_code == 400 and "errorlist" in bad.content.decode() and not bad.has_header("HX-Trigger")


def test_queue_settings_change_assignees_and_overlap_with_an_audit_row(curator_client, reviewer):
    queue, _ = sample_queue_make(count=1)
    response = curator_client.post(
        f"/review/queues/{queue.pk}/settings/",
        {"name": "Spot check", "instructions": "Look at the answer.", "overlap": "20", "active": "on", "assignees": [reviewer.pk]},
    )
    assert response.status_code == 302
    queue.refresh_from_db()
    assert queue.name == "Spot check" and queue.overlap_rate == pytest.approx(0.2)
    assert list(queue.assignees.all()) == [reviewer]
    row = Decision.objects.get(verdict="configure_queue")
    assert row.after["assignees"] == ["remy"] and row.before["overlap_rate"] == 0.0


def test_the_bulk_page_counts_confirms_and_starts_a_job(curator_client, curator):
    queue, _ = sample_queue_make(count=3)
    query = {"kind": "sample", "queue": queue.pk, "states": ["queued", "claimed"]}
    page = curator_client.get("/review/bulk/", query)
    html = page.content.decode()
    assert page.status_code == 200 and '<span id="bulk-count">3</span>' in html and 'name="confirmed_count" value="3"' in html
    post = {**query, "decision": "reject", "decision_reason": "formatting", "confirmed_count": "2"}
    stale = curator_client.post("/review/bulk/", post)
    assert stale.status_code == 409 and "not the 2 you confirmed" in stale.content.decode()
    started = curator_client.post("/review/bulk/", {**post, "confirmed_count": "3"})
    assert started.status_code == 302
    job = Job.objects.get(kind=Job.Kind.BULK_DECIDE)
    assert f"job={job.pk}" in started["Location"] and f"queue={queue.pk}" in started["Location"]
    assert job.params["verdict"] == "reject" and job.params["filter"]["queue_id"] == queue.pk and job.total == 3
    follow = curator_client.get(started["Location"])
    assert f'id="job-{job.pk}"' in follow.content.decode()
