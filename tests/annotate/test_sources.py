"""Source pages: who may see and do what, registering by path or upload, the row browser and the image view."""
import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from curation.models import Job, Source, SourceRow
from curation.selectors import SOURCE_ROWS_PAGE_SIZE
from curation.services import job_kinds
from curation.services.images import image_store
from curation.services.jobs import job_create, job_progress
from curation.services.sources import source_register
from tests.curation.ingest.makers import image_bytes, write_jsonl

pytestmark = pytest.mark.django_db


@pytest.fixture
def source(tmp_path):
    return source_register(name="vqa", location=str(write_jsonl(tmp_path / "vqa.jsonl", [{"q": "a"}])))


def _rows(source, count, image_sha=None):
    SourceRow.objects.bulk_create(
        SourceRow(source=source, row_number=n, data={"q": f"question {n}"}, image_shas=[image_sha] if image_sha else [])
        for n in range(count)
    )
    Source.objects.filter(pk=source.pk).update(row_count=count, status=Source.Status.READY)


def test_who_may_see_the_source_pages_and_the_register_form(role_clients, source):
    # One set of users for the whole matrix: creating them is the slow part.
    see = {"curator": 200, "reviewer": 200, "admin": 200, "nobody": 403, "anonymous": 302}
    register = {"curator": 200, "reviewer": 403, "admin": 200, "nobody": 403, "anonymous": 302}
    for role, client in role_clients.items():
        for url in ("/sources/", f"/sources/{source.pk}/"):
            assert client.get(url).status_code == see[role], (role, url)
        assert client.get("/sources/new/").status_code == register[role], role


def test_reviewer_cannot_register_or_ingest(reviewer_client, source, tmp_path):
    path = write_jsonl(tmp_path / "b.jsonl", [{"a": 1}])
    assert reviewer_client.post("/sources/new/", {"name": "b", "location": str(path), "format": "auto"}).status_code == 403
    assert reviewer_client.post(f"/sources/{source.pk}/ingest/").status_code == 403
    assert not Source.objects.filter(name="b").exists() and not Job.objects.exists()


def test_anonymous_is_sent_to_login(client, source):
    response = client.post(f"/sources/{source.pk}/ingest/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_curator_registers_a_path_and_its_ingest_starts(curator_client, curator, tmp_path):
    path = write_jsonl(tmp_path / "b.jsonl", [{"a": 1}])
    response = curator_client.post(
        "/sources/new/",
        {"name": "b", "location": str(path), "format": "auto", "license": "CC0", "origin": "https://x.org", "citation": "", "description": "d"},
    )
    source = Source.objects.get(name="b")
    assert response.status_code == 302 and response["Location"] == f"/sources/{source.pk}/"
    assert source.license == "CC0" and source.created_by == curator and source.status == Source.Status.INGESTING
    job = Job.objects.get(kind=job_kinds.INGEST.key)
    assert job.target == source and job.created_by == curator


def test_curator_uploads_a_file_saved_under_the_upload_dir(curator_client, settings):
    upload = SimpleUploadedFile("my data.jsonl", b'{"a": 1}\n', content_type="application/jsonl")
    response = curator_client.post("/sources/new/", {"name": "up", "upload": upload, "format": "auto"})
    assert response.status_code == 302
    source = Source.objects.get(name="up")
    assert source.location.startswith(str(settings.FINECURATE_UPLOAD_DIR)) and source.location.endswith("my_data.jsonl")


def test_the_form_shows_why_a_path_is_refused(curator_client):
    response = curator_client.post("/sources/new/", {"name": "etc", "location": "/etc/hostname", "format": "auto"})
    assert response.status_code == 200 and b"outside the allowed data roots" in response.content
    assert not Source.objects.exists()


def test_the_form_needs_a_path_or_an_upload(curator_client):
    response = curator_client.post("/sources/new/", {"name": "none", "format": "auto"})
    assert response.status_code == 200 and b"either a path" in response.content


def test_reingest_starts_a_new_job(curator_client, source):
    response = curator_client.post(f"/sources/{source.pk}/ingest/")
    assert response.status_code == 302 and Job.objects.filter(kind=job_kinds.INGEST.key).count() == 1


def test_detail_shows_progress_rejected_link_and_rows_with_thumbnails(curator_client, source, curator):
    image = image_store(data=image_bytes())
    _rows(source, 3, image.sha256)
    job = job_create(kind=job_kinds.INGEST.key, target=source, created_by=curator, total=4)
    job_progress(job=job, done=1)
    content = curator_client.get(f"/sources/{source.pk}/").content.decode()
    assert f'id="job-{job.pk}"' in content and "25%" in content and f"/jobs/{job.pk}/#errors" in content
    assert "question 2" in content and f"/images/{image.sha256}/?size=thumb" in content
    assert "Re-ingest" in content


def test_row_browser_pages_by_keyset_without_counting(curator_client, source):
    _rows(source, SOURCE_ROWS_PAGE_SIZE * 2 + 5)
    with CaptureQueriesContext(connection) as queries:
        first = curator_client.get(f"/sources/{source.pk}/").content.decode()
    assert not [q for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert f"?after={SOURCE_ROWS_PAGE_SIZE - 1}" in first and "?before=" not in first
    page2 = curator_client.get(
        f"/sources/{source.pk}/", {"after": SOURCE_ROWS_PAGE_SIZE - 1}, headers={"HX-Request": "true"}
    ).content.decode()
    assert 'id="source-rows"' in page2[:200]
    assert f"question {SOURCE_ROWS_PAGE_SIZE}" in page2 and "<html" not in page2
    assert f"?before={SOURCE_ROWS_PAGE_SIZE}" in page2 and f"?after={2 * SOURCE_ROWS_PAGE_SIZE - 1}" in page2
    last = curator_client.get(f"/sources/{source.pk}/", {"after": 2 * SOURCE_ROWS_PAGE_SIZE - 1}).content.decode()
    assert "?after=" not in last and f"question {2 * SOURCE_ROWS_PAGE_SIZE + 4}" in last
    back = curator_client.get(f"/sources/{source.pk}/", {"before": SOURCE_ROWS_PAGE_SIZE}).content.decode()
    assert "question 0" in back and "?before=" not in back


def test_summary_partial_refreshes_facts_and_rows(curator_client, source):
    _rows(source, 2)
    response = curator_client.get(f"/sources/{source.pk}/", {"part": "summary"}, headers={"HX-Request": "true"})
    content = response.content.decode()
    assert 'id="source-summary"' in content and "question 1" in content and "<html" not in content


def test_image_view_streams_the_stored_file_with_type_and_cache_headers(reviewer_client):
    png = image_bytes(size=(300, 200))
    image = image_store(data=png)
    response = reviewer_client.get(f"/images/{image.sha256}/")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == png
    assert "immutable" in response["Cache-Control"] and response["ETag"]
    again = reviewer_client.get(f"/images/{image.sha256}/", headers={"If-None-Match": response["ETag"]})
    assert again.status_code == 304
    thumb = reviewer_client.get(f"/images/{image.sha256}/?size=thumb")
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/jpeg"
    assert len(b"".join(thumb.streaming_content)) < len(png) * 5


def test_image_view_needs_login_and_a_known_image(client, reviewer_client, nobody_client):
    sha = image_store(data=image_bytes()).sha256
    assert client.get(f"/images/{sha}/").status_code == 302
    assert nobody_client.get(f"/images/{sha}/").status_code == 403
    assert reviewer_client.get(f"/images/{hashlib.sha256(b'x').hexdigest()}/").status_code == 404
    assert reviewer_client.get("/images/not-a-sha/").status_code == 404


def test_source_list_shows_counts_and_status(curator_client, source):
    _rows(source, 3)
    content = curator_client.get("/sources/").content.decode()
    assert "vqa" in content and "Ingested" in content and "Register a source" in content


def test_a_refused_upload_leaves_no_file_behind(curator_client, settings):
    upload = SimpleUploadedFile("notes.xyz", b"just words")
    response = curator_client.post("/sources/new/", {"name": "notes", "upload": upload, "format": "auto"})
    assert response.status_code == 200 and b"cannot tell the format" in response.content
    assert not any(settings.FINECURATE_UPLOAD_DIR.rglob("*"))


def test_curator_registers_a_source_with_an_image_folder_shown_on_its_page(curator_client, tmp_path):
    (tmp_path / "coco").mkdir()
    path = write_jsonl(tmp_path / "llava" / "l.jsonl", [{"image": "1.jpg"}])
    form = {"name": "l", "location": str(path), "image_root": str(tmp_path / "coco"), "format": "auto"}
    response = curator_client.post("/sources/new/", form)
    source = Source.objects.get(name="l")
    assert response.status_code == 302 and source.image_root == str((tmp_path / "coco").resolve())
    page = curator_client.get(f"/sources/{source.pk}/").content.decode()
    assert f'<code id="source-image-root">{source.image_root}</code>' in page


def test_the_form_shows_why_an_image_folder_is_refused(curator_client, tmp_path):
    path = write_jsonl(tmp_path / "l.jsonl", [{"image": "1.jpg"}])
    response = curator_client.post(
        "/sources/new/", {"name": "l", "location": str(path), "image_root": "/etc", "format": "auto"}
    )
    assert response.status_code == 200 and b"outside the allowed data roots" in response.content
    assert not Source.objects.exists()


def test_the_form_spells_licence_one_way_and_can_mark_it_unknown_on_purpose(curator_client, tmp_path):
    page = curator_client.get("/sources/new/").content.decode()
    assert "Licence" in page and "License" not in page
    path = write_jsonl(tmp_path / "nolic.jsonl", [{"q": "a"}])
    curator_client.post("/sources/new/", {"name": "nolic", "location": str(path), "format": "auto", "license_unknown": "on"})
    assert Source.objects.get(name="nolic").license_unknown is True


def test_the_source_page_says_why_rows_were_rejected_counted(curator_client, reviewer_client, tmp_path):
    from curation.services.ingest import source_ingest
    from curation.services.sources import source_ingest_prepare

    path = tmp_path / "bad.jsonl"
    path.write_text('{"q": "a"}\nnot json\nnot json either\n{"q": "b"}\n')
    source = source_register(name="bad", location=str(path))
    job, _ = source_ingest_prepare(source=source)
    source_ingest(source=source, job=job)
    page = curator_client.get(f"/sources/{source.pk}/").content.decode()
    assert 'id="rejection-reasons"' in page and "2 rows</strong>" in page
    assert 'id="rejection-reasons"' not in reviewer_client.get(f"/sources/{source.pk}/").content.decode()


def test_source_rows_render_as_the_chat_they_become_with_the_raw_json_one_toggle_away(curator_client, tmp_path):
    from curation.mapping.spec import spec_from_dict
    from curation.services.mapping import mapping_create_version

    source = source_register(name="chatty", location=str(write_jsonl(tmp_path / "c.jsonl", [{"q": "a"}])))
    SourceRow.objects.create(source=source, row_number=0, data={"question": "What is shown?", "answer": "A cat."})
    Source.objects.filter(pk=source.pk).update(columns={"question": "string", "answer": "string"}, status="ready")
    source.refresh_from_db()
    spec = {"subset": {"name": "chatty", "category": "general_vqa"}, "images": [],
            "turns": {"mode": "template", "pairs": [{"user": "{question}", "assistant": "{answer}"}]}}
    mapping_create_version(source=source, spec=spec_from_dict(spec, columns=source.columns), by=None)
    page = curator_client.get(f"/sources/{source.pk}/").content.decode()
    assert '<div class="user">What is shown?</div>' in page and '<div class="assistant">A cat.</div>' in page
    assert "<summary>Raw JSON</summary>" in page
