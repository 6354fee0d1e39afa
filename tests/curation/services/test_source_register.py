"""source_register: a source under an allowed data root, with a clear error for anything else."""
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.core.exceptions import ValidationError

from curation.models import Source
from curation.services.sources import source_register
from tests.curation.ingest.makers import write_image, write_jsonl

pytestmark = pytest.mark.django_db


def test_registers_a_file_under_an_allowed_root_with_its_resolved_path(tmp_path, curator):
    path = write_jsonl(tmp_path / "d" / "a.jsonl", [{"a": 1}])
    source = source_register(
        name="  set-a ", location=str(tmp_path / "d" / ".." / "d" / "a.jsonl"), license="CC-BY-4.0", by=curator
    )
    assert source.name == "set-a" and source.location == str(path.resolve())
    assert source.status == Source.Status.REGISTERED and source.license == "CC-BY-4.0" and source.created_by == curator


def test_a_path_outside_the_allowed_roots_is_refused():
    with pytest.raises(ValidationError) as exc:
        source_register(name="etc", location="/etc/hostname")
    assert "outside the allowed data roots" in exc.value.message_dict["location"][0]


def test_a_missing_path_is_refused(tmp_path):
    with pytest.raises(ValidationError) as exc:
        source_register(name="gone", location=str(tmp_path / "gone.jsonl"))
    assert "does not exist" in exc.value.message_dict["location"][0]


def test_a_duplicate_name_is_refused_whatever_its_case(tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [{"a": 1}])
    source_register(name="VQA", location=str(path))
    with pytest.raises(ValidationError) as exc:
        source_register(name="vqa", location=str(path))
    assert "already exists" in exc.value.message_dict["name"][0]


def test_a_file_of_unknown_format_is_refused_unless_a_format_is_chosen(tmp_path):
    path = tmp_path / "notes.xyz"
    path.write_text("words")
    with pytest.raises(ValidationError) as exc:
        source_register(name="notes", location=str(path))
    assert "cannot tell the format" in exc.value.message_dict["format"][0]
    assert source_register(name="notes", location=str(path), format="csv").format == "csv"


def test_an_image_folder_must_be_a_folder(tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [{"a": 1}])
    with pytest.raises(ValidationError) as exc:
        source_register(name="x", location=str(path), format="imagefolder")
    assert "is a file" in exc.value.message_dict["format"][0]
    write_image(tmp_path / "pics" / "a.png")
    assert source_register(name="pics", location=str(tmp_path / "pics")).format == "auto"


def test_a_relative_location_is_taken_under_a_data_root(tmp_path, settings):
    settings.FINECURATE_DATA_ROOTS = [tmp_path]
    write_jsonl(tmp_path / "sub" / "a.jsonl", [{"a": 1}])
    assert source_register(name="rel", location="sub/a.jsonl").location == str((tmp_path / "sub" / "a.jsonl").resolve())
    with pytest.raises(ValidationError):
        source_register(name="escape", location="../../etc/hostname")


def test_a_format_choice_the_file_contradicts_is_refused_before_the_name_is_taken(tmp_path):
    jsonl = write_jsonl(tmp_path / "a.jsonl", [{"a": 1}])
    with pytest.raises(ValidationError) as exc:
        source_register(name="set", location=str(jsonl), format="parquet")
    assert "a.jsonl is not a Parquet file" in exc.value.message_dict["format"][0]
    parquet = tmp_path / "b.parquet"
    pq.write_table(pa.table({"a": [1]}), parquet)
    with pytest.raises(ValidationError) as exc:
        source_register(name="set", location=str(parquet), format="jsonl")
    assert "b.parquet is a Parquet file" in exc.value.message_dict["format"][0]
    assert not Source.objects.exists()
    assert source_register(name="set", location=str(parquet), format="parquet").format == "parquet"
