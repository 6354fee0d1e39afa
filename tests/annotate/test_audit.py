"""The audit trail page: filters, cursor paging, and the streamed CSV export."""
import csv
import io
from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from annotate.views import audit
from curation.models import Decision, Sample
from curation.services.review import review_decide
from curation.services.review_claims import review_claim_next
from tests.curation.review.builders import sample_queue_make

pytestmark = pytest.mark.django_db


def _decide(queue, user, verdict, reason=""):
    item = review_claim_next(queue=queue, user=user)
    review_decide(item_id=item.pk, user=user, data={"verdict": verdict, "reason": reason, "note": "=SUM(A1)"})
    return item


def test_the_trail_lists_every_decision_and_filters_by_actor_verdict_and_target(curator_client, reviewer, second_reviewer):
    queue, _ = sample_queue_make(count=3)
    accepted = _decide(queue, reviewer, "accept")
    rejected = _decide(queue, second_reviewer, "reject", "harmful")
    html = curator_client.get("/audit/").content.decode()
    assert f'data-decision="{Decision.objects.get(item=accepted).pk}"' in html
    assert "create_queue" in html  # queue changes are decisions too
    by_actor = curator_client.get("/audit/", {"actor": "rita"}).content.decode()
    assert f'data-decision="{Decision.objects.get(item=rejected).pk}"' in by_actor
    assert f'data-decision="{Decision.objects.get(item=accepted).pk}"' not in by_actor
    by_verdict = curator_client.get("/audit/", {"verdict": "accept", "kind": "sample"}).content.decode()
    assert by_verdict.count("data-decision=") == 1
    sample_type = ContentType.objects.get_for_model(Sample).pk
    by_target = curator_client.get("/audit/", {"target_type": sample_type, "target_id": accepted.target_id}).content.decode()
    assert by_target.count("data-decision=") == 1
    tomorrow = (timezone.now() + timedelta(days=1)).date().isoformat()
    assert curator_client.get("/audit/", {"date_from": tomorrow}).content.decode().count("data-decision=") == 0


def test_the_trail_pages_by_cursor(curator_client, reviewer, monkeypatch):
    monkeypatch.setattr(audit, "PAGE_SIZE", 2)
    queue, _ = sample_queue_make(count=3)
    for _ in range(3):
        _decide(queue, reviewer, "accept")
    first = curator_client.get("/audit/", {"actor": "remy"}).content.decode()
    assert first.count("data-decision=") == 2 and "Older decisions" in first
    newest_ids = sorted(Decision.objects.filter(actor=reviewer).values_list("pk", flat=True), reverse=True)
    second = curator_client.get("/audit/", {"actor": "remy", "before": newest_ids[1]}).content.decode()
    assert second.count("data-decision=") == 1 and "Older decisions" not in second


def test_the_csv_export_streams_the_filtered_rows_with_formulas_neutralised(curator_client, reviewer):
    queue, _ = sample_queue_make(count=2)
    item = _decide(queue, reviewer, "reject", "formatting")
    response = curator_client.get("/audit/export.csv", {"actor": "remy"})
    assert response.streaming and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 1
    row = rows[0]
    assert (row["actor"], row["verdict"], row["reason"], row["kind"]) == ("remy", "reject", "formatting", "sample")
    assert row["item"] == str(item.pk) and row["target_type"] == "curation.sample"
    assert row["note"] == "'=SUM(A1)"
    assert '"status": "rejected"' in row["after"]


def test_a_bad_filter_is_refused_on_export(curator_client):
    response = curator_client.get("/audit/export.csv", {"date_from": "not a date"})
    assert response.status_code == 400


def test_a_bulk_decision_is_named_and_linked_not_numbered(curator, curator_client):
    from curation.services.jobs import job_create
    from curation.services.review_bulk import ItemFilter, review_bulk_run

    queue, _ = sample_queue_make(count=2)
    job = job_create(kind="bulk_decide", created_by=curator, params={
        "filter": ItemFilter(kind="sample", queue_id=queue.pk).to_params(), "verdict": "accept", "reason": "", "note": "",
    })
    assert review_bulk_run(job=job)["decided"] == 2
    html = curator_client.get("/audit/").content.decode()
    assert html.count(f'href="/jobs/{job.pk}/">bulk decision</a>') == 2
    assert f"bulk job {job.pk}" not in html
