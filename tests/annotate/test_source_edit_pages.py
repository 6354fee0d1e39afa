"""The source page's Edit and Delete pages: curators only, validation beside the field, the plan before the delete."""
import pytest

from curation.models import Source, SourceRow
from curation.services import job_kinds
from curation.services.jobs import job_create, job_succeed
from tests.factories import approved_subset_make, source_make

pytestmark = pytest.mark.django_db


def test_the_source_page_offers_edit_reingest_and_delete_to_curators_only(curator_client, reviewer_client):
    source = source_make(name="buttons")
    page = curator_client.get(f"/sources/{source.pk}/").content.decode()
    assert 'id="source-edit"' in page and 'id="source-reingest"' in page and 'id="source-delete"' in page
    assert 'class="button primary" href="/sources/' not in page  # delete is not the primary button
    as_reviewer = reviewer_client.get(f"/sources/{source.pk}/").content.decode()
    assert 'id="source-edit"' not in as_reviewer and 'id="source-delete"' not in as_reviewer
    assert reviewer_client.get(f"/sources/{source.pk}/edit/").status_code == 403
    assert reviewer_client.post(f"/sources/{source.pk}/delete/").status_code == 403


def test_editing_saves_and_shows_a_taken_name_beside_the_field(curator_client):
    source_make(name="taken")
    source = source_make(name="mine", license="")
    form = curator_client.get(f"/sources/{source.pk}/edit/").content.decode()
    assert 'value="mine"' in form and 'name="image_root"' in form and 'name="location"' not in form

    refused = curator_client.post(f"/sources/{source.pk}/edit/", {"name": "taken", "label_origin": "unknown"})
    assert refused.status_code == 200 and "already exists" in refused.content.decode()

    saved = curator_client.post(f"/sources/{source.pk}/edit/", {"name": "mine", "license": "CC0-1.0",
                                                                "label_origin": "human"}, follow=True)
    assert "Saved mine." in saved.content.decode() and 'id="source-license">CC0-1.0<' in saved.content.decode()
    assert Source.objects.get(pk=source.pk).label_origin == "human"


def test_the_delete_page_lists_what_goes_and_needs_the_box_ticked_for_an_approved_subset(curator_client, curator):
    source = source_make(name="going")
    SourceRow.objects.create(source=source, row_number=0, data={})
    approved_subset_make(samples=2, name="approved-one", source=source, by=curator)

    page = curator_client.get(f"/sources/{source.pk}/delete/").content.decode()
    assert "approved-one" in page and 'id="delete-confirm"' in page and "<strong>2</strong> samples" in page

    refused = curator_client.post(f"/sources/{source.pk}/delete/")
    assert refused.status_code == 409 and "Confirm to go ahead" in refused.content.decode()
    assert Source.objects.filter(pk=source.pk).exists()

    done = curator_client.post(f"/sources/{source.pk}/delete/", {"confirm": "yes"}, follow=True)
    assert done.redirect_chain[-1][0] == "/sources/" and "Deleted going" in done.content.decode()
    assert not Source.objects.filter(pk=source.pk).exists()


def test_after_a_delete_its_jobs_and_the_audit_trail_still_show(curator_client, curator):
    source = source_make(name="history")
    job = job_create(kind=job_kinds.INGEST.key, target=source)
    job_succeed(job=job)
    assert curator_client.post(f"/sources/{source.pk}/delete/").status_code == 302

    assert curator_client.get(f"/jobs/{job.pk}/").status_code == 200
    audit = curator_client.get("/audit/").content.decode()
    assert "delete" in audit and "(deleted)" in audit
