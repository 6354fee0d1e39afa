"""Readers for sources as published: records keyed by id, under an envelope key, joined to another file, and
image names built from columns. Pure readers: no database."""
import json
from pathlib import Path

import pytest

from curation.ingest.readers import Declaration, SourceUnreadable, reader_open
from curation.ingest.readers.join import ImagePattern, JoinDeclaration
from curation.ingest.readers.json_array import json_shape


def write(path: Path, value: object) -> Path:
    path.write_text(json.dumps(value))
    return path


def rows(reader) -> list[tuple[int | None, dict | None, str | None]]:
    return [(r.row_number, r.data, r.error) for r in reader.records()]


def test_an_object_keyed_by_id_gives_one_row_per_key_with_the_key_kept(tmp_path):
    path = write(tmp_path / "problems.json", {"1000": {"question": "a"}, "1001": {"question": "b", "id": 7}})
    shape = json_shape(path)
    assert shape.keyed and shape.suggested_key == "*"
    reader = reader_open(path, "json", Declaration(records_key="*", id_column="pid"))
    assert reader.count() == 2
    assert rows(reader) == [(0, {"pid": "1000", "question": "a"}, None), (1, {"pid": "1001", "question": "b", "id": 7}, None)]


def test_an_envelope_key_is_suggested_only_when_one_list_is_obvious(tmp_path):
    one = write(tmp_path / "docvqa.json", {"dataset_name": "docvqa", "data": [{"q": 1}, {"q": 2}]})
    assert json_shape(one).suggested_key == "data" and json_shape(one).lists == {"data": 2}
    coco = write(tmp_path / "captions.json", {"info": {}, "images": [{"id": 1}], "annotations": [{"image_id": 1}] * 3})
    shape = json_shape(coco)
    assert shape.suggested_key is None and shape.lists == {"images": 1, "annotations": 3}
    assert [d for _, d, _ in rows(reader_open(coco, "json", Declaration(records_key="annotations")))] == [{"image_id": 1}] * 3


def test_one_to_many_groups_matches_in_file_order_and_reports_what_matched_nothing(tmp_path):
    coco = write(tmp_path / "captions.json", {
        "images": [{"id": 1, "file_name": "a.jpg"}, {"id": 2, "file_name": "b.jpg"}, {"id": 3, "file_name": "c.jpg"}],
        "annotations": [{"image_id": 2, "caption": "b1"}, {"image_id": 1, "caption": "a1"}, {"image_id": 2, "caption": "b2"},
                        {"image_id": 9, "caption": "orphan"}, {"caption": "no key"}],
    })
    declaration = Declaration(records_key="images", join=JoinDeclaration(
        location=None, records_key="annotations", left_key="id", right_key="image_id", many=True, column="captions"))
    reader = reader_open(coco, "json", declaration)
    read = rows(reader)
    assert read[0] == (0, {"id": 1, "file_name": "a.jpg", "captions": [{"image_id": 1, "caption": "a1"}]}, None)
    assert [c["caption"] for c in read[1][1]["captions"]] == ["b1", "b2"]
    assert read[2][:2] == (2, None) and "no record of captions.json annotations has image_id = 3" in read[2][2]
    leftovers = [error for number, _, error in read[3:]]
    assert "1 image_id value(s)" in leftovers[0] and "e.g. 9" in leftovers[0]
    assert "1 record(s) of captions.json annotations have no image_id" in leftovers[1]
    report = reader.report
    assert (report.left_rows, report.matched_rows, report.left_unmatched, report.right_rows, report.right_unmatched) == (
        3, 2, 1, 5, 1)


def test_one_to_one_merges_the_other_file_and_an_image_name_is_built_from_a_column(tmp_path):
    questions = write(tmp_path / "questions.json", {"data_subtype": "val2014", "questions": [
        {"image_id": 42, "question": "Is it?", "question_id": 420}]})
    annotations = write(tmp_path / "annotations.json", {"annotations": [
        {"question_id": 420, "image_id": 42, "multiple_choice_answer": "yes", "answers": [{"answer": "yes"}]}]})
    declaration = Declaration(records_key="questions", image_pattern="COCO_val2014_{image_id:012d}.jpg",
                              join=JoinDeclaration(location=annotations, records_key="annotations",
                                                   left_key="question_id", right_key="question_id"))
    assert rows(reader_open(questions, "json", declaration)) == [(0, {
        "image_id": 42, "question": "Is it?", "question_id": 420, "multiple_choice_answer": "yes",
        "answers": [{"answer": "yes"}], "image": "COCO_val2014_000000000042.jpg"}, None)]


def test_an_image_pattern_leaves_rows_without_its_columns_text_only_and_takes_plain_names_only():
    pattern = ImagePattern("{split}/{id}/{image}", "image")
    assert pattern.name_for({"split": "train", "id": "5", "image": "image.png"}) == "train/5/image.png"
    assert pattern.name_for({"split": "train", "id": "9", "image": None}) is None
    for bad in ("{0.__class__}", "{a.b}", "{x!r}", "no fields"):
        with pytest.raises(SourceUnreadable):
            ImagePattern(bad, "image")


@pytest.mark.django_db
def test_the_ingest_command_takes_a_joined_source_and_reports_the_join(tmp_path, settings):
    from django.core.management import call_command

    from curation.models import Job, Source, SourceRow

    settings.FINECURATE_DATA_ROOTS = [tmp_path]
    questions = write(tmp_path / "questions.json", {"questions": [{"question_id": 1, "question": "Q1?"},
                                                                  {"question_id": 2, "question": "Q2?"}]})
    write(tmp_path / "annotations.json", {"annotations": [{"question_id": 1, "multiple_choice_answer": "yes"}]})
    call_command("ingest", str(questions), "--source", "vqa-two-files", "--join-file", str(tmp_path / "annotations.json"),
                 "--join-on", "question_id", "--join-to", "question_id", "--label-origin", "human", "--task", "vqa")
    source = Source.objects.get(name="vqa-two-files")
    assert (source.records_key, source.join_records_key, source.label_origin, source.task_name) == (
        "questions", "annotations", "human", "vqa")
    assert [r.data for r in SourceRow.objects.filter(source=source)] == [
        {"question_id": 1, "question": "Q1?", "multiple_choice_answer": "yes"}]
    job = Job.objects.get(target_id=str(source.pk), kind="ingest")
    assert job.result["join"]["left_unmatched"] == 1 and job.result["join"]["left_unmatched_examples"] == ["2"]
    assert "no record of annotations.json has question_id = 2" in job.errors.get().message


def test_a_declaration_says_what_to_fix_when_the_records_key_is_not_obvious_or_a_join_is_incomplete(tmp_path):
    from django.core.exceptions import ValidationError

    from curation.services.source_declaration import declaration_clean

    coco = write(tmp_path / "captions.json", {"images": [{"id": 1}], "annotations": [{"image_id": 1}, {"image_id": 1}]})
    with pytest.raises(ValidationError) as caught:
        declaration_clean(path=coco, data={})
    assert caught.value.message_dict["records_key"] == [
        "captions.json holds several lists of records (with their lengths): images (1), annotations (2); choose the key of one"]
    with pytest.raises(ValidationError) as caught:
        declaration_clean(path=coco, data={"records_key": "images", "join_left_key": "id", "join_right_key": "image_id",
                                           "join_records_key": "annotations", "join_many": True})
    assert "join_column" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        declaration_clean(path=coco, data={"records_key": "images", "image_pattern": "{0.__class__}.jpg"})
    assert "image_pattern" in caught.value.message_dict
    clean = declaration_clean(path=coco, data={"records_key": "images", "join_left_key": "id", "join_right_key": "image_id",
                                               "join_records_key": "annotations", "join_many": True,
                                               "join_column": "captions", "label_origin": "human"})
    assert (clean["records_key"], clean["join_location"], clean["join_many"], clean["label_origin"]) == (
        "images", "", True, "human")
