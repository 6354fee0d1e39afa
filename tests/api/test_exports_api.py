"""Exports over the API: create, poll, list files and download them with resumable Range requests."""
import hashlib
import io
import time

import pyarrow.parquet as pq
import pytest

from curation.models import Export
from tests.factories import approved_subset_make, export_build_now, subset_make


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_pipeline_creates_polls_and_downloads_an_export_with_a_token(curator_api, celery_worker_real):
    subset = approved_subset_make(samples=6, name="Pipeline subset", sample_status="pending")

    created = curator_api.post("/api/exports/", {"subsets": [subset.pk], "format": "parquet",
                                                 "filters": {"decision": {"statuses": ["pending"]}}}, format="json")
    assert created.status_code == 202, created.content
    poll_url = created["Location"]
    assert created.json()["state"] == "queued"

    deadline = time.monotonic() + 60
    while True:
        export = curator_api.get(poll_url).json()
        if export["state"] in ("succeeded", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert export["state"] == "succeeded", export["message"]
    assert export["progress"] == {"done": 6, "total": 6, "percent": 100}
    assert export["manifest"]["counts"]["out"] == 6 and export["sample_count"] == 6

    files = curator_api.get(export["files_url"], {"kind": "data"}).json()["results"]
    assert [f["name"] for f in files] == ["data/pipeline-subset/train-00000-of-00001.parquet"]
    url = files[0]["url"]
    whole = curator_api.get(url)
    data = _body(whole)
    assert whole.status_code == 200 and whole["Accept-Ranges"] == "bytes" and whole["ETag"] == f'"{files[0]["sha256"]}"'
    assert hashlib.sha256(data).hexdigest() == files[0]["sha256"] and len(data) == files[0]["size"]

    # Resume after the first 1000 bytes, as a download manager does, while the file is unchanged.
    rest = curator_api.get(url, HTTP_RANGE="bytes=1000-", HTTP_IF_RANGE=whole["ETag"])
    assert rest.status_code == 206 and rest["Content-Range"] == f"bytes 1000-{len(data) - 1}/{len(data)}"
    resumed = data[:1000] + _body(rest)
    assert resumed == data and pq.read_table(io.BytesIO(resumed)).num_rows == 6


@pytest.mark.django_db
class TestDownloads:
    @pytest.fixture
    def export(self, curator):
        return export_build_now(subsets=[approved_subset_make(samples=2, name="Dl")], format="llava_jsonl", by=curator)

    def _url(self, export, name="data.jsonl"):
        return f"/api/exports/{export.pk}/files/{name}"

    def test_a_suffix_range_returns_the_last_bytes(self, curator_api, export):
        data = _body(curator_api.get(self._url(export)))
        tail = curator_api.get(self._url(export), HTTP_RANGE="bytes=-10")
        assert tail.status_code == 206 and _body(tail) == data[-10:] and tail["Content-Length"] == "10"

    def test_a_stale_if_range_gets_the_whole_file(self, curator_api, export):
        response = curator_api.get(self._url(export), HTTP_RANGE="bytes=5-", HTTP_IF_RANGE='"an-old-etag"')
        assert response.status_code == 200 and "Content-Range" not in response

    def test_a_range_past_the_end_is_416_with_the_size(self, curator_api, export):
        size = export.files.get(name="data.jsonl").size
        response = curator_api.get(self._url(export), HTTP_RANGE=f"bytes={size + 5}-")
        assert response.status_code == 416 and response["Content-Range"] == f"bytes */{size}"
        assert response.json()["error"]["code"] == "range_not_satisfiable"

    def test_if_none_match_with_the_sha256_is_304_and_head_has_no_body(self, curator_api, export):
        row = export.files.get(name="data.jsonl")
        assert curator_api.get(self._url(export), HTTP_IF_NONE_MATCH=f'"{row.sha256}"').status_code == 304
        head = curator_api.head(self._url(export))
        assert head.status_code == 200 and head["Content-Length"] == str(row.size) and head.content == b""

    def test_images_download_by_their_path_and_names_outside_the_export_are_404(self, curator_api, export):
        image = export.files.filter(kind="image").first()
        assert hashlib.sha256(_body(curator_api.get(self._url(export, image.name)))).hexdigest() == image.sha256
        assert curator_api.get(self._url(export, "../../secret_key")).status_code == 404
        assert curator_api.get(self._url(export, "nope.txt")).json()["error"]["code"] == "not_found"

    def test_expired_and_unfinished_exports_cannot_be_downloaded(self, curator_api, export):
        Export.objects.filter(pk=export.pk).update(state=Export.State.RUNNING)
        assert curator_api.get(self._url(export)).status_code == 409
        Export.objects.filter(pk=export.pk).update(state=Export.State.EXPIRED)
        response = curator_api.get(self._url(export))
        assert response.status_code == 410 and response.json()["error"]["code"] == "export_expired"


@pytest.mark.django_db
class TestCreate:
    def test_a_draft_subset_is_refused_in_the_error_shape(self, curator_api):
        draft = subset_make(name="Drafty")
        response = curator_api.post("/api/exports/", {"subsets": [draft.pk], "format": "parquet"}, format="json")
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"] == "invalid_export" and "Drafty" in error["message"] and error["detail"] == {"field": "subsets"}
        assert not Export.objects.exists()

    @pytest.mark.parametrize(
        ("payload", "code"),
        [
            ({"subsets": [], "format": "parquet"}, "invalid"),
            ({"subsets": [1], "format": "zip"}, "invalid"),
            ({"subsets": [987654], "format": "parquet"}, "unknown_subset"),
            ({"subsets": ["SUBSET"], "format": "parquet"}, "invalid"),
            ({"subsets": "SUBSET", "format": "parquet", "filters": {"decision": {"statuses": ["x"]}}}, "invalid"),
        ],
    )
    def test_bad_payloads_are_400_with_a_code(self, curator_api, payload, code):
        response = curator_api.post("/api/exports/", payload, format="json")
        assert response.status_code == 400 and response.json()["error"]["code"] == code

    def test_bad_filter_params_name_the_filter(self, curator_api):
        subset = approved_subset_make(samples=1)
        response = curator_api.post("/api/exports/", {"subsets": [subset.pk], "format": "webdataset",
                                                      "filters": {"decision": {"statuses": ["maybe"]}}}, format="json")
        assert response.status_code == 400 and response.json()["error"]["detail"] == {"field": "decision.statuses"}

    def test_a_created_export_is_listed_with_its_job_progress(self, curator_api):
        subset = approved_subset_make(samples=1)
        created = curator_api.post("/api/exports/", {"subsets": [subset.pk], "format": "llava_jsonl", "columns": ["provenance"],
                                                     "name": "Mine"}, format="json").json()
        listed = curator_api.get("/api/exports/", {"state": "queued"}).json()["results"]
        assert [e["id"] for e in listed] == [created["id"]]
        assert listed[0]["columns"] == ["provenance"] and listed[0]["name"] == "Mine" and listed[0]["created_by"] == "cora"
        assert listed[0]["progress"] == {"done": 0, "total": None, "percent": None}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "code"), [("anonymous_api", 401), ("nobody_api", 403), ("reviewer_api", 403), ("curator_api", 200)]
)
def test_only_users_who_may_export_reach_the_export_endpoints(request, who, code, curator):
    export = export_build_now(subsets=[approved_subset_make(samples=1)], format="llava_jsonl", by=curator)
    client = request.getfixturevalue(who)
    urls = ["/api/exports/", f"/api/exports/{export.pk}/", f"/api/exports/{export.pk}/files/",
            f"/api/exports/{export.pk}/files/data.jsonl"]
    assert [client.get(url).status_code for url in urls] == [code] * 4
    created = client.post("/api/exports/", {"subsets": [export.subsets.first().pk], "format": "parquet"}, format="json")
    assert created.status_code == (202 if code == 200 else code)


def test_reviewers_cannot_export(reviewer_api, db):
    response = reviewer_api.post("/api/exports/", {"subsets": [1], "format": "parquet"}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["message"] == "You need the curation.export_data permission."
