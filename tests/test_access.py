"""Every page and endpoint, walked from the URL configuration and probed with REAL objects of every type (a
source with rows and an image, its mapping, a subset, a review queue and item, an export with its files and job):
nobody gets in without signing in, a user in no role gets nothing, a reviewer opens no export, so a missing check
on any detail view fails here."""
import re

import pytest
from django.urls import get_resolver
from django.urls.resolvers import URLPattern, URLResolver

from curation.models import Benchmark, DuplicateScan, HardNegative, Job, JobError, Mapping, SourceRow
from curation.services import job_kinds
from curation.services.actions import action_schema_seed_unified
from curation.services.jobs import job_create
from curation.services.review import ItemEntry, review_items_enqueue, review_queue_create
from tests.factories import approved_subset_make, export_build_now, image_make, source_make

# Open to everyone: signing in and out.
PUBLIC = {"login", "logout"}
# Open to any signed-in user, whatever their role: their own API token, the API's description.
ANY_SIGNED_IN = {"api_token", "api-schema", "api-docs", "api-redoc"}
# What a reviewer may not open: exports, their files and their jobs.
NOT_FOR_REVIEWERS = {"export_list", "export_new", "export_detail", "export_expire", "api-exports", "api-export",
                     "api-export-files", "api-export-file", "job_detail"}
# Managing a source (edit, delete, re-ingest) is for curators: a reviewer sees the source but changes nothing.
SOURCE_MANAGEMENT = {"source_edit", "source_delete", "source_reingest", "api-source-ingest"}


def _routes() -> list[tuple[str, str]]:
    """(route with <converter:name> placeholders, URL name), admin excluded."""

    def walk(resolver: URLResolver, prefix: str = ""):
        for pattern in resolver.url_patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern) and pattern.name:
                yield prefix + str(pattern.pattern), pattern.name

    return [(route, name) for route, name in walk(get_resolver()) if not route.startswith("admin/")]


ROUTES = _routes()


@pytest.fixture
def real(curator) -> dict[str, str]:
    """One real object of every type a URL names, as the URL arguments that reach it."""
    image = image_make()
    source = source_make()
    SourceRow.objects.create(source=source, row_number=0, data={"image": "a.png"}, image_shas=[image.sha256])
    subset = approved_subset_make(samples=2, source=source, by=curator)
    mapping = Mapping.objects.get(source=source)
    queue = review_queue_create(kind="sample", subset=subset, by=None)
    review_items_enqueue(queue=queue, entries=[ItemEntry(target_id=s.pk) for s in subset.samples.all()])
    export = export_build_now(subsets=[subset], format="llava_jsonl", by=curator)
    sample = subset.samples.order_by("pk").first()
    benchmark = Benchmark.objects.create(name="access-bench")
    scan = DuplicateScan.objects.create(kind="duplicate", threshold=0.95, verify_threshold=0.35, engine="sscd-int8-onnx")
    scan.subsets.add(subset)
    negative = HardNegative.objects.create(
        subset=subset, sample=sample, turn_index=0, positive="A red bus.", phase="attribute", fact="A red bus.", slot=0,
        text="A blue bus.", changes=[{"attribute": "colour", "origin": "red", "target": "blue"}], attribute="colour",
        level="hard", engine_name="builtin", engine_version="1", agent_verdict="passed", visual_check="reviewer",
    )
    return {
        "source_id": str(source.pk),
        "pk": str(source.pk),
        "version": str(mapping.version),
        "subset_id": str(subset.pk),
        "queue_id": str(queue.pk),
        "item_id": str(queue.items.first().pk),
        "export_id": str(export.pk),
        "job_id": str(export.job_id),
        "name": "data.jsonl",
        "sha256": image.sha256,
        "sample_id": str(sample.pk),
        "benchmark_id": str(benchmark.pk),
        "scan_id": str(scan.pk),
        "negative_id": str(negative.pk),
        "schema_id": str(action_schema_seed_unified().pk),
    }


def _url(route: str, real: dict[str, str]) -> str:
    if route.startswith("^"):  # the image view's regex route
        return f"/images/{real['sha256']}/"
    return "/" + re.sub(r"<\w+:(\w+)>", lambda m: real[m.group(1)], route)


def test_the_walk_finds_every_area():
    names = {name for _, name in ROUTES}
    assert {"source_list", "mapping_page", "review_home", "subset_list", "export_list", "audit", "dashboard"} <= names
    assert {"api-exports", "api-subsets", "api-review-queues", "api-sources", "home", "job_detail"} <= names


def test_every_url_argument_has_a_real_object():
    arguments = {a for route, _ in ROUTES for a in re.findall(r"<\w+:(\w+)>", route)}
    assert arguments <= {"source_id", "pk", "version", "subset_id", "queue_id", "item_id", "export_id", "job_id", "name",
                         "sample_id", "benchmark_id", "scan_id", "negative_id", "schema_id"}


@pytest.mark.django_db
def test_anonymous_users_are_sent_to_sign_in_or_refused(client, real):
    for route, name in ROUTES:
        if name in PUBLIC:
            continue
        path = _url(route, real)
        for method in (client.get, client.post):
            response = method(path)
            if path.startswith("/api/"):
                assert response.status_code in (401, 403), (name, method.__name__, response.status_code)
            elif response.status_code != 405:  # 405: the method is not offered at all
                assert response.status_code == 302 and "/login/" in response["Location"], (name, response.status_code)


@pytest.mark.django_db
def test_a_user_in_no_role_gets_nothing_of_real_objects(nobody_client, real):
    for route, name in ROUTES:
        if name in PUBLIC | ANY_SIGNED_IN:
            continue
        path = _url(route, real)
        for method in (nobody_client.get, nobody_client.post):
            response = method(path)
            assert response.status_code in (403, 405), (name, path, method.__name__, response.status_code)


@pytest.mark.django_db
def test_a_reviewer_opens_no_export_nor_its_job(reviewer_client, real):
    for route, name in ROUTES:
        if name not in NOT_FOR_REVIEWERS:
            continue
        path = _url(route, real)
        response = reviewer_client.get(path)
        assert response.status_code in (403, 405), (name, path, response.status_code)


@pytest.mark.django_db
def test_a_reviewer_edits_deletes_and_reingests_no_source(reviewer_client, real):
    routes = [(route, name) for route, name in ROUTES if name in SOURCE_MANAGEMENT]
    assert {name for _, name in routes} == SOURCE_MANAGEMENT
    for route, name in routes:
        path = _url(route, real)
        for method in (reviewer_client.get, reviewer_client.post):
            response = method(path)
            assert response.status_code in (403, 405), (name, method.__name__, response.status_code)
    source = f"/api/sources/{real['source_id']}/"
    assert reviewer_client.patch(source, {"license": "MIT"}, content_type="application/json").status_code == 403
    assert reviewer_client.delete(source).status_code == 403


@pytest.mark.django_db
def test_a_user_in_no_role_and_anonymous_users_cannot_patch_or_delete_a_source(nobody_client, client, real):
    source = f"/api/sources/{real['source_id']}/"
    for who in (nobody_client, client):
        assert who.patch(source, {"license": "MIT"}, content_type="application/json").status_code in (401, 403)
        assert who.delete(source).status_code in (401, 403)


@pytest.mark.django_db
def test_every_role_opens_what_it_may(reviewer_client, curator_client, real):
    for client, names in [(reviewer_client, ["home", "source_detail", "subset_detail", "review_work"]),
                          (curator_client, ["home", "job_detail", "export_detail", "source_detail", "api-export",
                                            "source_edit", "source_delete"])]:
        for route, name in ROUTES:
            if name in names:
                response = client.get(_url(route, real))
                assert response.status_code == 200, (name, response.status_code)


@pytest.mark.django_db
def test_job_pages_show_server_paths_to_curators_only(reviewer_client, curator_client, curator):
    source = source_make()
    job = job_create(kind=job_kinds.INGEST.key, target=source, created_by=curator)
    JobError.objects.create(job=job, location="/srv/data/folder_src/evil.jsonl", message="/srv/data/folder_src/evil.jsonl is outside the allowed data roots (/srv/data, /app/demo)")
    Job.objects.filter(pk=job.pk).update(error_count=1, state=Job.State.FAILED, message="cannot read /srv/data/folder_src")
    as_reviewer = reviewer_client.get(f"/jobs/{job.pk}/").content.decode()
    assert "/srv/data" not in as_reviewer and "/app/demo" not in as_reviewer
    assert "…/evil.jsonl" in as_reviewer and "…/folder_src" in as_reviewer
    as_curator = curator_client.get(f"/jobs/{job.pk}/").content.decode()
    assert "/srv/data/folder_src/evil.jsonl is outside the allowed data roots (/srv/data, /app/demo)" in as_curator
