"""Every paginated endpoint: a hand-made or garbage cursor is a 400 invalid_cursor, a bad page_size a 400."""
import base64

import pytest

from curation.models import SourceRow
from tests.factories import approved_subset_make, export_build_now

pytestmark = pytest.mark.django_db


@pytest.fixture
def lists(curator) -> list[str]:
    subset = approved_subset_make(samples=2, by=curator)
    source = subset.samples.first().source
    SourceRow.objects.create(source=source, row_number=0, data={"q": "a"})
    export = export_build_now(subsets=[subset], format="llava_jsonl", by=curator)
    return ["/api/sources/", f"/api/sources/{source.pk}/rows/", "/api/subsets/", f"/api/subsets/{subset.pk}/samples/",
            "/api/exports/", f"/api/exports/{export.pk}/files/"]


def _cursor(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize("cursor", [_cursor("p=abc"), _cursor("o=x"), _cursor("r=1&p=1.5"), _cursor("p=2026-13-01")])
def test_a_hand_made_cursor_is_400_invalid_cursor_everywhere(curator_api, lists, cursor):
    for url in lists:
        if cursor != _cursor("o=x") and url.endswith(("/subsets/", "/files/")):
            continue  # ordered by name: any text is a position there
        response = curator_api.get(url, {"cursor": cursor})
        assert response.status_code == 400, (url, cursor, response.status_code)
        assert response.json()["error"]["code"] == "invalid_cursor", (url, response.json())


def test_the_cursors_the_api_hands_out_still_work(curator_api, lists):
    for url in lists:
        first = curator_api.get(url, {"page_size": 1} if "sources/" != url[-8:] else {})
        assert first.status_code == 200, (url, first.json())
        following = first.json()["next"]
        if following:
            assert curator_api.get(following).status_code == 200, url


@pytest.mark.parametrize("page_size", ["abc", "1.5", "0", "-3", "100000"])
def test_a_page_size_that_is_not_a_whole_number_in_range_is_refused(curator_api, lists, page_size):
    for url in lists:
        if url == "/api/sources/":
            continue  # sources come in pages of one fixed size
        response = curator_api.get(url, {"page_size": page_size})
        assert response.status_code == 400, (url, page_size, response.status_code)
        assert response.json()["error"]["detail"]["page_size"]
