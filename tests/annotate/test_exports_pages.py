"""Export pages: the form built from the registry, the progress and manifest page, expiry; the token page."""
import re

import pytest

from curation.models import ApiToken, Export, Subset
from curation.services.api_tokens import token_user
from tests.factories import approved_subset_make, export_build_now, source_make, subset_make

pytestmark = pytest.mark.django_db


def test_the_form_offers_approved_subsets_formats_and_every_registered_filter(curator_client):
    approved = approved_subset_make(samples=1, name="Ready set")
    subset_make(name="Draft set")
    page = curator_client.get(f"/exports/new/?subsets={approved.pk}").content.decode()
    assert "Ready set" in page and "Draft set" not in page
    assert f'name="subsets" value="{approved.pk}" id="id_subsets_0" checked' in page
    for name in ("decision", "categories", "sources"):
        assert f'data-filter="{name}"' in page
    assert 'name="format" value="webdataset"' in page


def test_creating_an_export_queues_it_and_redirects_to_its_page(curator_client, curator):
    subset = approved_subset_make(samples=2, name="Go")
    source = source_make(name="only-this")
    response = curator_client.post("/exports/new/", {
        "subsets": [subset.pk], "format": "llava_jsonl", "name": "First",
        "filter__decision__statuses": ["accepted", "pending", "rejected"],
        "filter__sources__ids": [str(source.pk)], "columns": ["provenance"],
    })
    export = Export.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/exports/{export.pk}/"
    assert export.filters == {"decision": {"statuses": ["accepted", "pending", "rejected"]}, "sources": {"ids": [source.pk]}}
    assert export.columns == ["provenance"] and export.created_by == curator and export.name == "First"


def test_a_default_filter_cannot_be_emptied(curator_client):
    subset = approved_subset_make(samples=1)
    response = curator_client.post("/exports/new/", {"subsets": [subset.pk], "format": "parquet"})
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    assert not Export.objects.exists()


def test_a_subset_reopened_meanwhile_is_refused_on_the_form(curator_client):
    subset = approved_subset_make(samples=1, name="Moving")
    form = {"subsets": [subset.pk], "format": "parquet", "filter__decision__statuses": ["pending"]}
    Subset.objects.filter(pk=subset.pk).update(status="draft", approved_at=None)
    response = curator_client.post("/exports/new/", form)
    assert response.status_code == 200 and not Export.objects.exists()


def test_the_export_page_polls_until_done_then_shows_files_and_manifest(curator_client, curator):
    export = export_build_now(subsets=[approved_subset_make(samples=3, name="Shown")], format="parquet", by=curator)
    Export.objects.filter(pk=export.pk).update(state=Export.State.RUNNING)
    running = curator_client.get(f"/exports/{export.pk}/", headers={"HX-Request": "true"})
    assert running.status_code == 200 and 'hx-trigger="every 1s"' in running.content.decode()

    Export.objects.filter(pk=export.pk).update(state=Export.State.SUCCEEDED)
    done = curator_client.get(f"/exports/{export.pk}/", headers={"HX-Request": "true"})
    body = done.content.decode()
    assert done.status_code == 286
    assert "data/shown/train-00000-of-00001.parquet" in body and "README.md" in body
    assert 'id="manifest-out">3<' in body and "Decision state (states: accepted)</strong> <span class=\"muted\">(the default)</span>" in body


def test_deleting_the_files_now_expires_the_export(curator_client, curator):
    export = export_build_now(subsets=[approved_subset_make(samples=1)], format="webdataset", by=curator)
    response = curator_client.post(f"/exports/{export.pk}/expire/")
    assert response.status_code == 302
    export.refresh_from_db()
    assert export.state == Export.State.EXPIRED and not export.files.exists()
    assert "The files were deleted" in curator_client.get(f"/exports/{export.pk}/").content.decode()


def test_a_user_creates_and_replaces_their_api_token(reviewer_client, reviewer):
    assert "You have no API token yet." in reviewer_client.get("/token/").content.decode()
    page = reviewer_client.post("/token/", follow=True)
    assert "no-store" in page["Cache-Control"]
    first = re.search(r'<code id="token-key">([0-9a-f]{40})</code>', page.content.decode()).group(1)
    assert token_user(key=first) == reviewer and "your role cannot create or download exports" in page.content.decode()
    # Only the digest is kept: the key is never shown again, and the database does not hold it.
    again = reviewer_client.get("/token/").content.decode()
    assert first not in again and first[:8] in again
    assert not ApiToken.objects.filter(digest=first).exists() and ApiToken.objects.get(user=reviewer).digest != first
    reviewer_client.post("/token/")
    assert token_user(key=first) is None


@pytest.mark.parametrize(("who", "code"), [("curator", 200), ("admin", 200), ("reviewer", 403), ("nobody", 403), ("anonymous", 302)])
def test_only_users_who_may_export_reach_the_export_pages(role_clients, curator, who, code):
    export = export_build_now(subsets=[approved_subset_make(samples=1)], format="llava_jsonl", by=curator)
    client = role_clients[who]
    for url in ("/exports/", "/exports/new/", f"/exports/{export.pk}/"):
        assert client.get(url).status_code == code, url
    assert client.post(f"/exports/{export.pk}/expire/").status_code == (302 if code == 200 else code)
