"""Editing a source: the fields registration checks are checked again, and the change is an audit row with a diff."""
import pytest
from django.contrib.contenttypes.models import ContentType

from curation.models import Decision, Source
from curation.services.sources import SourceInvalid, source_register, source_update
from tests.curation.ingest.makers import write_jsonl
from tests.factories import source_make

pytestmark = pytest.mark.django_db


def _edits(source):
    return Decision.objects.filter(target_type=ContentType.objects.get_for_model(Source), target_id=str(source.pk),
                                   verdict="edit")


def test_a_licence_and_citation_change_is_saved_and_recorded_before_and_after(curator):
    source = source_make(name="edit-me", license="", license_unknown=True, citation="old")

    updated = source_update(source=source, by=curator, license=" CC BY 4.0 ", citation="@misc{new}")

    updated.refresh_from_db()
    assert (updated.license, updated.license_unknown, updated.citation) == ("CC BY 4.0", False, "@misc{new}")
    decision = _edits(source).get()
    assert decision.actor == curator
    assert decision.before == {"license": "", "license_unknown": True, "citation": "old"}
    assert decision.after == {"license": "CC BY 4.0", "license_unknown": False, "citation": "@misc{new}"}


def test_an_edit_that_changes_nothing_records_nothing(curator):
    source = source_make(name="same", license="MIT")
    source_update(source=source, by=curator, name="same", license="MIT")
    assert not _edits(source).exists()


def test_a_name_another_source_has_is_refused_whatever_its_case(curator):
    source_make(name="taken")
    source = source_make(name="mine")
    with pytest.raises(SourceInvalid) as caught:
        source_update(source=source, by=curator, name="TAKEN")
    assert caught.value.field == "name" and "already exists" in caught.value.message
    with pytest.raises(SourceInvalid) as empty:
        source_update(source=source, by=curator, name="  ")
    assert empty.value.field == "name"
    source.refresh_from_db()
    assert source.name == "mine" and not _edits(source).exists()


def test_the_image_folder_must_be_a_folder_under_a_data_root(curator, tmp_path):
    path = write_jsonl(tmp_path / "rows.jsonl", [{"q": "a"}])
    source = source_register(name="folders", location=str(path))
    with pytest.raises(SourceInvalid) as outside:
        source_update(source=source, by=curator, image_root="/etc")
    assert outside.value.field == "image_root" and "outside" in outside.value.message
    with pytest.raises(SourceInvalid) as missing:
        source_update(source=source, by=curator, image_root=str(tmp_path / "nowhere"))
    assert "does not exist" in missing.value.message
    with pytest.raises(SourceInvalid) as a_file:
        source_update(source=source, by=curator, image_root=str(path))
    assert "is a file" in a_file.value.message

    (tmp_path / "coco").mkdir()
    updated = source_update(source=source, by=curator, image_root=str(tmp_path / "coco"))
    assert updated.image_root == str((tmp_path / "coco").resolve())
    assert _edits(source).get().after == {"image_root": str((tmp_path / "coco").resolve())}


def test_a_value_longer_than_its_column_is_refused_by_field(curator):
    source = source_make(name="long")
    with pytest.raises(SourceInvalid) as caught:
        source_update(source=source, by=curator, license="x" * 201)
    assert caught.value.field == "license" and "200" in caught.value.message


def test_an_unknown_label_origin_is_refused(curator):
    source = source_make(name="labels")
    with pytest.raises(SourceInvalid) as caught:
        source_update(source=source, by=curator, label_origin="aliens")
    assert caught.value.field == "label_origin"


@pytest.mark.parametrize("folder", ["~nobody-has-this-home/images", "a" * 300])
def test_a_folder_that_names_nothing_the_system_can_resolve_is_refused_not_a_crash(curator, folder):
    source = source_make(name="odd-folder")
    with pytest.raises(SourceInvalid) as caught:
        source_update(source=source, by=curator, image_root=folder)
    assert caught.value.field == "image_root"
