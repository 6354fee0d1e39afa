"""Accept, reject and edit: versioned, audited, and at most one accepted version per source."""
import pytest
from django.db import IntegrityError, transaction

from curation.mapping.spec import SpecError, spec_from_dict
from curation.models import Decision, Job, Mapping, Subset
from curation.services import job_kinds
from curation.services.mapping import (
    MappingStateError,
    mapping_accept,
    mapping_create_version,
    mapping_reject,
)
from tests.curation.mapping import layouts

pytestmark = pytest.mark.django_db

SPEC = {"subset": {"name": "trivia", "category": "text_only"}, "images": [],
        "turns": {"mode": "template", "pairs": [{"user": "{question}", "assistant": "{answer}"}]}}


@pytest.fixture
def source():
    return layouts.source_with_rows("trivia", layouts.textonly_records())


def test_an_edited_version_is_validated_numbered_and_audited(source, curator):
    v1 = mapping_create_version(source=source, spec=spec_from_dict(SPEC), by=curator)
    v2 = mapping_create_version(source=source, spec=spec_from_dict({**SPEC, "filters": []}), by=curator, based_on=v1)
    assert (v1.version, v2.version) == (1, 2) and v2.engine == "" and v2.created_by == curator
    assert v2.spec["turns"]["pairs"] == SPEC["turns"]["pairs"] and v2.spec["images"] == []
    edit = Decision.objects.get(target_id=str(v2.pk), verdict="edit")
    assert edit.actor == curator and edit.before == v1.spec and edit.after == v2.spec
    with pytest.raises(SpecError, match="not a column"):
        mapping_create_version(source=source, spec=spec_from_dict({**SPEC, "images": ["photo"]}), by=curator)
    assert Mapping.objects.filter(source=source).count() == 2


def test_accepting_supersedes_the_accepted_version_and_queues_apply(source, curator):
    v1 = mapping_create_version(source=source, spec=spec_from_dict(SPEC), by=curator)
    mapping_accept(mapping=v1, by=curator)
    v2 = mapping_create_version(source=source, spec=spec_from_dict(SPEC), by=curator)
    job = mapping_accept(mapping=v2, by=curator, subset_name="trivia-v2")
    v1.refresh_from_db()
    v2.refresh_from_db()
    assert v1.status == Mapping.Status.SUPERSEDED and v2.status == Mapping.Status.ACCEPTED
    assert v2.subset.name == "trivia-v2" and v2.spec["subset"]["name"] == "trivia-v2"
    assert v2.subset.category == Subset.Category.TEXT_ONLY
    assert job.kind == job_kinds.APPLY_MAPPING.key and job.target == v2 and job.created_by == curator
    accept = Decision.objects.get(target_id=str(v2.pk), verdict="accept")
    assert accept.before["accepted_version"] == 1 and accept.after["subset"] == "trivia-v2"


def test_only_a_suggested_version_can_be_accepted_or_rejected(source, curator):
    v1 = mapping_create_version(source=source, spec=spec_from_dict(SPEC), by=curator)
    mapping_reject(mapping=v1, by=curator, reason="wrong answer column")
    with pytest.raises(MappingStateError, match="rejected; only a suggested version can be accepted"):
        mapping_accept(mapping=v1, by=curator)
    with pytest.raises(MappingStateError, match="only a suggested version can be rejected"):
        mapping_reject(mapping=v1, by=curator, reason="again")
    with pytest.raises(MappingStateError, match="say why"):
        mapping_reject(mapping=mapping_create_version(source=source, spec=spec_from_dict(SPEC), by=curator), by=curator, reason="")


def test_the_database_allows_one_accepted_version_per_source(source, curator):
    v1 = mapping_create_version(source=source, spec=spec_from_dict(SPEC), by=curator)
    mapping_accept(mapping=v1, by=curator)
    v2 = mapping_create_version(source=source, spec=spec_from_dict(SPEC), by=curator)
    with pytest.raises(IntegrityError), transaction.atomic():
        Mapping.objects.filter(pk=v2.pk).update(status=Mapping.Status.ACCEPTED)


def test_accepting_into_an_approved_subset_is_refused(source, curator):
    Subset.objects.create(name="trivia", status=Subset.Status.APPROVED, approved_at="2026-01-01T00:00:00Z")
    v1 = mapping_create_version(source=source, spec=spec_from_dict(SPEC), by=curator)
    with pytest.raises(MappingStateError, match="is approved"):
        mapping_accept(mapping=v1, by=curator)
    v1.refresh_from_db()
    assert v1.status == Mapping.Status.SUGGESTED and not Job.objects.exists()


def test_a_stored_spec_that_no_longer_fits_the_columns_cannot_be_accepted(source, curator):
    v1 = mapping_create_version(source=source, spec=spec_from_dict(SPEC), by=curator)
    source.columns = {"prompt": "string", "reply": "string"}  # re-ingested with other columns
    source.save(update_fields=["columns"])
    with pytest.raises(SpecError, match="'question'|\\{question\\}"):
        mapping_accept(mapping=v1, by=curator)
