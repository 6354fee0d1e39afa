"""The OpenAPI schema is generated and valid, and no generated request makes the API fail with a 5xx."""
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
from schemathesis.checks import not_a_server_error

from config.wsgi import application
from curation.services.api_tokens import token_rotate
from tests.factories import approved_subset_make, export_build_now


def _generated_schema() -> dict:
    """The schema the server serves (to signed-in clients), generated in-process and rendered to JSON."""
    return json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))


# Requests go through the WSGI app, as a client's would; the operations of the API's pipeline side are fuzzed.
schema = schemathesis.openapi.from_dict(_generated_schema()).include(path_regex=r"^/api/(subsets|exports|sources)")
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
    return token_rotate(user=curator)[1]


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_generated_request_makes_a_server_error(case, token):
    response = case.call(headers={"Authorization": f"Token {token}"})
    case.validate_response(response, checks=[not_a_server_error])
