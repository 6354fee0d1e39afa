"""Who may open which review page and endpoint: one matrix over the users of every role."""
import pytest

from curation.models import ReviewItem
from tests.curation.review.builders import sample_queue_make

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "nobody", "reviewer", "curator", "admin"]
SIGN_IN = 302


def _expect(allowed: set[str], ok: int = 200) -> dict[str, int]:
    return {role: ok if role in allowed else (SIGN_IN if role == "anonymous" else 403) for role in ROLES}


WORKERS = {"reviewer", "curator", "admin"}
MANAGERS = {"curator", "admin"}


def test_every_review_page_and_endpoint_checks_its_permission(role_clients):
    queue, samples = sample_queue_make(count=3)
    subset = samples[0].subset
    item = ReviewItem.objects.filter(queue=queue).first()
    pages = [
        ("get", "/review/", {}, _expect(WORKERS)),
        ("get", f"/review/queues/{queue.pk}/", {}, _expect(WORKERS)),
        ("get", f"/review/queues/{queue.pk}/previous/", {}, _expect(WORKERS, 204)),
        ("get", f"/review/subsets/{subset.pk}/panel/", {}, _expect(WORKERS, 302)),  # to the subset page
        ("get", f"/review/queues/{queue.pk}/settings/", {}, _expect(MANAGERS)),
        ("get", "/review/bulk/", {}, _expect(MANAGERS)),
        ("get", "/audit/", {}, _expect(MANAGERS)),
        ("get", "/audit/export.csv", {}, _expect(MANAGERS)),
        ("get", "/dashboard/", {}, _expect(MANAGERS)),
        ("post", "/review/queues/fill/", {"subset": subset.pk, "kind": "sample", "percent": "2", "seed": "1"}, _expect(MANAGERS, 302)),
        # A reviewer reaches the decision, which refuses an item they never claimed: permission passed.
        ("post", f"/review/items/{item.pk}/decide/", {"verdict": "accept"}, _expect(WORKERS, 302)),
        ("post", f"/review/items/{item.pk}/skip/", {}, _expect(WORKERS, 302)),
        ("post", f"/review/queues/{queue.pk}/release/", {}, _expect(WORKERS, 302)),
    ]
    failures = []
    for method, url, data, expected in pages:
        for role, status in expected.items():
            response = getattr(role_clients[role], method)(url, data)
            if response.status_code != status:
                failures.append(f"{role} {method.upper()} {url}: {response.status_code}, expected {status}")
            if role == "anonymous" and status == SIGN_IN and "/login/" not in response.get("Location", ""):
                failures.append(f"anonymous {url} is not sent to sign in")
    assert not failures, "\n".join(failures)


def test_every_review_api_endpoint_checks_its_permission(role_clients):
    queue, _ = sample_queue_make(count=len(WORKERS))
    item = ReviewItem.objects.filter(queue=queue).first()
    endpoints = [
        ("get", "/api/review/queues/", {}),
        ("post", f"/api/review/queues/{queue.pk}/claim/", {}),
        ("post", f"/api/review/items/{item.pk}/release/", {}),
    ]
    for method, url, data in endpoints:
        for role in ROLES:
            response = getattr(role_clients[role], method)(url, data, content_type="application/json")
            if role in WORKERS:
                assert response.status_code == 200, (role, url, response.content)
            else:
                assert response.status_code in (401, 403), (role, url, response.status_code)
                assert "error" in response.json()
