"""The OpenAPI schema is generated, valid and true: schemathesis runs every check over every operation."""
import json

import pytest
import schemathesis
import yaml
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from drf_spectacular.validation import validate_schema
from hypothesis import HealthCheck, settings
from schemathesis.checks import CHECKS

from config.wsgi import application
from curation.services.api_tokens import token_rotate
from curation.services.review import ItemEntry, review_items_enqueue, review_queue_create
from tests.factories import approved_subset_make, export_build_now


def _generated_schema() -> dict:
    """The schema the server serves (to signed-in clients), generated in-process and rendered to JSON."""
    return json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))


# Requests go through the WSGI app, as a client's would; every operation is fuzzed, the review API included.
schema = schemathesis.openapi.from_dict(_generated_schema())
schema.app = application


def test_the_openapi_schema_is_served_to_signed_in_clients_and_valid(curator_client, client):
    assert client.get("/api/schema/").status_code in (401, 403)
    response = curator_client.get("/api/schema/")
    assert response.status_code == 200
    document = yaml.safe_load(response.content)
    validate_schema(document)
    for operation in ["/api/subsets/", "/api/subsets/{subset_id}/samples/", "/api/exports/",
                      "/api/exports/{export_id}/", "/api/exports/{export_id}/files/{name}"]:
        assert operation in document["paths"]
    assert "202" in document["paths"]["/api/exports/"]["post"]["responses"]


def test_the_swagger_ui_works_offline(curator_client):
    page = curator_client.get("/api/docs/")
    assert page.status_code == 200 and b"cdn" not in page.content.lower()
    assert b"/static/drf_spectacular_sidecar/" in page.content


@pytest.fixture
def keep_test_connection():
    """Like Django's test client: the WSGI app must not close the test's connection at the end of a request."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def token(curator, keep_test_connection) -> str:
    subset = approved_subset_make(samples=2, name="Fuzzed")
    export_build_now(subsets=[subset], format="llava_jsonl", by=curator)
    queue = review_queue_create(kind="sample", subset=subset, by=None)
    review_items_enqueue(queue=queue, entries=[ItemEntry(target_id=s.pk) for s in subset.samples.all()])
    return token_rotate(user=curator)[1]


# Every check schemathesis has, but two:
# - positive_data_acceptance expects every schema-valid request to succeed, but a schema can only say "a string"
#   for an opaque cursor and "an integer" for a subset id: a cursor the API did not hand out and the id of a
#   subset that does not exist are schema-valid and rightly refused (400 invalid_cursor, 400 on subsets).
# - ignored_auth replays the request without the token through schemathesis' own transport, which closes the
#   test's database connection mid-test; the same matrix (anonymous -> 401/403 on every operation) is
#   tests/test_access.py's.
CHECKS_OFF = {"positive_data_acceptance", "ignored_auth"}


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_check_passes_on_every_operation(case, token):
    response = case.call(headers={"Authorization": f"Token {token}"})
    checks = [check for check in CHECKS.get_all() if check.__name__ not in CHECKS_OFF]
    case.validate_response(response, checks=checks)


def test_the_schema_declares_nullable_users_errors_downloads_and_page_sizes():
    document = _generated_schema()
    components = document["components"]["schemas"]
    assert components["SubsetOut"]["properties"]["approved_by"]["nullable"] is True
    assert components["ExportOut"]["properties"]["created_by"]["nullable"] is True
    assert components["SourceOut"]["properties"]["created_by"]["nullable"] is True
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert {"401", "403"} <= set(operation["responses"]), (method, path)
            if "{" in path:
                assert "404" in operation["responses"], (method, path)
    download = document["paths"]["/api/exports/{export_id}/files/{name}"]["get"]["responses"]["200"]["content"]
    assert "application/json" not in download or "application/octet-stream" in download
    assert {"application/octet-stream", "application/x-tar", "image/jpeg"} <= set(download)
    samples = document["paths"]["/api/subsets/{subset_id}/samples/"]["get"]["parameters"]
    page_size = next(p for p in samples if p["name"] == "page_size")
    assert page_size["schema"] == {"type": "integer", "minimum": 1, "maximum": 1000}
