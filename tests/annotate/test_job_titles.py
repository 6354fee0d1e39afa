"""Jobs are named for what they act on, not by an internal id alone."""
import pytest

from curation.models import Mapping
from curation.services import job_kinds
from curation.services.jobs import job_create
from tests.factories import mapping_make, source_make

pytestmark = pytest.mark.django_db


def test_a_job_is_named_for_its_source_or_mapping_on_its_page_and_the_home_page(curator_client):
    source = source_make(name="my-llava-5")
    ingest = job_create(kind=job_kinds.INGEST.key, target=source)
    mapping = mapping_make(source=source)
    apply = job_create(kind=job_kinds.APPLY_MAPPING.key, target=Mapping.objects.get(pk=mapping.pk))
    page = curator_client.get(f"/jobs/{ingest.pk}/").content.decode()
    assert "Ingest source: my-llava-5" in page
    page = curator_client.get(f"/jobs/{apply.pk}/").content.decode()
    assert f"Apply mapping: version {mapping.version} of my-llava-5" in page
    home = curator_client.get("/").content.decode()
    assert "Ingest source: my-llava-5" in home
