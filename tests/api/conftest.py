"""API clients that authenticate with a token, as a training pipeline does."""
import pytest
from rest_framework.test import APIClient

from curation.services.api_tokens import token_rotate


def _token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_rotate(user=user)[1]}")
    return client


@pytest.fixture
def curator_api(curator) -> APIClient:
    return _token_client(curator)


@pytest.fixture
def reviewer_api(reviewer) -> APIClient:
    return _token_client(reviewer)


@pytest.fixture
def nobody_api(nobody) -> APIClient:
    return _token_client(nobody)


@pytest.fixture
def anonymous_api() -> APIClient:
    return APIClient()
