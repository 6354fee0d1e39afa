"""The sources API writes: PATCH edits (400 by field), DELETE asks for confirmation with the plan (409) then
deletes (204), POST .../ingest/ re-ingests (202, 409 while one is under way); each with its role."""
import pytest
from django.contrib.contenttypes.models import ContentType

from curation.models import Decision, Job, Source, SourceRow
from curation.services import job_kinds
from curation.services.jobs import job_create
from tests.factories import approved_subset_make, source_make

pytestmark = pytest.mark.django_db


def test_patch_edits_the_licence_and_records_the_change(curator_api, curator):
    source = source_make(name="api-edit", license="")
    response = curator_api.patch(f"/api/sources/{source.pk}/", {"license": "CC BY-SA 4.0", "task_name": "vqa"},
                                 format="json")
    assert response.status_code == 200, response.content
    assert response.json()["license"] == "CC BY-SA 4.0" and response.json()["task_name"] == "vqa"
    decision = Decision.objects.get(verdict="edit", target_type=ContentType.objects.get_for_model(Source))
    assert decision.actor == curator and decision.after == {"license": "CC BY-SA 4.0", "task_name": "vqa"}


def test_patch_answers_400_with_the_field_at_fault(curator_api):
    source_make(name="taken")
    source = source_make(name="api-bad")
    taken = curator_api.patch(f"/api/sources/{source.pk}/", {"name": "taken"}, format="json")
    assert taken.status_code == 400
    assert taken.json()["error"]["code"] == "invalid_source" and taken.json()["error"]["detail"] == {"field": "name"}
    outside = curator_api.patch(f"/api/sources/{source.pk}/", {"image_root": "/etc"}, format="json")
    assert outside.status_code == 400 and outside.json()["error"]["detail"] == {"field": "image_root"}
    typed = curator_api.patch(f"/api/sources/{source.pk}/", {"label_origin": "aliens", "name": ""}, format="json")
    assert typed.status_code == 400 and set(typed.json()["error"]["detail"]) == {"label_origin", "name"}
    assert Source.objects.get(pk=source.pk).name == "api-bad"


def test_delete_needs_confirmation_when_an_approved_subset_goes_then_deletes(curator_api, curator):
    source = source_make(name="api-doomed")
    SourceRow.objects.create(source=source, row_number=0, data={})
    approved_subset_make(samples=2, name="api-approved", source=source, by=curator)

    asked = curator_api.delete(f"/api/sources/{source.pk}/")
    assert asked.status_code == 409
    error = asked.json()["error"]
    assert error["code"] == "confirmation_required" and error["detail"]["samples"] == 2
    assert error["detail"]["subsets"][0]["name"] == "api-approved" and error["detail"]["subsets"][0]["goes"] is True
    assert Source.objects.filter(pk=source.pk).exists()

    done = curator_api.delete(f"/api/sources/{source.pk}/?confirm=true")
    assert done.status_code == 204 and not Source.objects.filter(pk=source.pk).exists()
    assert curator_api.get(f"/api/sources/{source.pk}/").status_code == 404


def test_delete_takes_the_confirmation_in_the_body_too(curator_api, curator):
    source = source_make(name="api-body")
    approved_subset_make(samples=1, source=source, by=curator)
    assert curator_api.delete(f"/api/sources/{source.pk}/", {"confirm": True}, format="json").status_code == 204


def test_delete_is_refused_while_a_job_on_the_source_is_unfinished(curator_api):
    source = source_make(name="api-busy")
    job = job_create(kind=job_kinds.INGEST.key, target=source)
    response = curator_api.delete(f"/api/sources/{source.pk}/?confirm=true")
    assert response.status_code == 409 and response.json()["error"]["code"] == "source_busy"
    assert response.json()["error"]["detail"]["running_jobs"][0]["id"] == job.pk


def test_ingest_answers_202_with_the_job_then_409_while_it_is_queued(curator_api, broker,
                                                                     django_capture_on_commit_callbacks):
    source = source_make(name="api-ingest")
    with django_capture_on_commit_callbacks(execute=True):
        started = curator_api.post(f"/api/sources/{source.pk}/ingest/")
    assert started.status_code == 202 and started.json()["state"] == "queued"
    assert started["Location"].endswith(f"/api/sources/{source.pk}/") and [(task.name, task.args, task.queue) for task in broker.sent()] == [
        (job_kinds.INGEST.task, [started.json()["id"]], job_kinds.INGEST.queue)
    ]
    again = curator_api.post(f"/api/sources/{source.pk}/ingest/")
    assert again.status_code == 409 and again.json()["error"]["code"] == "ingest_running"
    assert again.json()["error"]["detail"]["id"] == started.json()["id"] and Job.objects.count() == 1


@pytest.mark.parametrize("role, read, write", [("curator", 200, True), ("reviewer", 200, False), ("nobody", 403, False)])
def test_each_role_reads_and_writes_what_it_may(role, read, write, request):
    api = request.getfixturevalue(f"{role}_api")
    source = source_make(name=f"roles-{role}")
    assert api.get(f"/api/sources/{source.pk}/").status_code == read
    expected = (200, 409, 202) if write else (403, 403, 403)
    job_create(kind=job_kinds.SUGGEST_MAPPING.key, target=source)  # a job on it: a permitted delete answers 409
    assert api.patch(f"/api/sources/{source.pk}/", {"license": "MIT"}, format="json").status_code == expected[0]
    assert api.delete(f"/api/sources/{source.pk}/?confirm=true").status_code == expected[1]
    assert api.post(f"/api/sources/{source.pk}/ingest/").status_code == expected[2]


def test_anonymous_clients_cannot_write(anonymous_api):
    source = source_make(name="anon")
    assert anonymous_api.patch(f"/api/sources/{source.pk}/", {"license": "MIT"}, format="json").status_code in (401, 403)
    assert anonymous_api.delete(f"/api/sources/{source.pk}/").status_code in (401, 403)
    assert anonymous_api.post(f"/api/sources/{source.pk}/ingest/").status_code in (401, 403)
