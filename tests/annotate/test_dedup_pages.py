"""Copy-detection pages and API: who may see them, who may start checks and register benchmarks."""
from curation.models import Benchmark, DuplicateScan
from tests.factories import image_make, sample_make, source_make, subset_make


def _subset():
    subset = subset_make(name="Pages")
    sample_make(subset=subset, source=source_make(), images=[image_make()])
    return subset


def test_reviewer_sees_the_copies_page_but_cannot_start_a_check(db, reviewer_client, curator_client):
    subset = _subset()
    page = reviewer_client.get(f"/subsets/{subset.pk}/copies/")
    assert page.status_code == 200 and b"not run" in page.content
    assert reviewer_client.post(f"/subsets/{subset.pk}/copies/scan/", {"kind": "duplicate"}).status_code == 403
    assert reviewer_client.post("/benchmarks/register/", {"name": "x", "mode": "folder"}).status_code == 403
    assert reviewer_client.post(f"/api/subsets/{subset.pk}/scans/", {"kind": "duplicate"}).status_code == 403
    assert not DuplicateScan.objects.exists()


def test_curator_starts_a_check_and_bad_input_is_refused_with_a_message(db, curator_client):
    subset = _subset()
    response = curator_client.post(f"/subsets/{subset.pk}/copies/scan/", {"kind": "leak"}, follow=True)
    assert b"needs at least one registered benchmark" in response.content
    assert not DuplicateScan.objects.exists()
    api = curator_client.post(f"/api/subsets/{subset.pk}/scans/", {"kind": "leak"}, content_type="application/json")
    assert api.status_code == 400 and api.json()["error"]["code"] == "dedup_invalid"
    ok = curator_client.post(f"/api/subsets/{subset.pk}/scans/", {"kind": "duplicate"}, content_type="application/json")
    assert ok.status_code == 202 and ok.json()["state"] == "embedding"
    assert curator_client.get(f"/api/scans/{ok.json()['id']}/").json()["engine"] == "sscd-int8-onnx"
    assert curator_client.get(f"/api/subsets/{subset.pk}/copies/").json()["contamination"]["samples"] == 1


def test_benchmark_from_a_folder_outside_the_data_roots_is_refused(db, curator_client):
    response = curator_client.post("/benchmarks/register/", {"name": "Etc", "mode": "folder", "path": "/etc", "split": "test"}, follow=True)
    assert b"outside the allowed data roots" in response.content
    assert not Benchmark.objects.exists()
    assert curator_client.get("/benchmarks/").status_code == 200
