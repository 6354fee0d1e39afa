"""The foundation itself: settings on the real services, roles, job progress page."""
import pytest
from django.conf import settings
from django.contrib.auth.models import Group

from curation.services import job_kinds
from curation.services.jobs import RowError, job_create, job_progress, job_reject_rows, job_succeed


def test_suite_runs_on_postgres_and_redis():
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    assert settings.CELERY_BROKER_URL.startswith("redis://")


def test_roles_exist_with_their_permissions(roles):
    curator = Group.objects.get(name="curator")
    reviewer = Group.objects.get(name="reviewer")
    assert curator.permissions.filter(codename="ingest_source").exists()
    assert not reviewer.permissions.filter(codename="ingest_source").exists()
    assert reviewer.permissions.filter(codename="review_item").exists()
    assert Group.objects.get(name="admin").permissions.filter(codename="export_data").exists()


@pytest.mark.django_db
def test_job_page_polls_until_done_then_stops(curator_client, curator):
    job = job_create(kind=job_kinds.INGEST.key, created_by=curator, total=10)
    job_progress(job=job, done=4)
    job_reject_rows(job=job, errors=[RowError(message="not JSON", row_number=3, location="line 4")])
    response = curator_client.get(f"/jobs/{job.pk}/", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert b"40%" in response.content and b"1 rejected" in response.content
    job_succeed(job=job)
    response = curator_client.get(f"/jobs/{job.pk}/", headers={"HX-Request": "true"})
    assert response.status_code == 286
    page = curator_client.get(f"/jobs/{job.pk}/")
    assert b"not JSON" in page.content and b"line 4" in page.content


def test_pages_require_login(client, db):
    response = client.get("/")
    assert response.status_code == 302 and "/login/" in response["Location"]
