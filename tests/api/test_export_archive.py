"""A finished export as one archive: unpacked, it is the export's folder and `datasets` loads it by name."""
import io
import tarfile

import pytest
from datasets import load_dataset

from curation.models import Export
from tests.factories import approved_subset_make, export_build_now


def _archive(client, export) -> bytes:
    response = client.get(f"/api/exports/{export.pk}/archive/")
    assert response.status_code == 200, getattr(response, "content", b"")[:300]
    body = b"".join(response.streaming_content)
    assert int(response["Content-Length"]) == len(body)
    assert response["Content-Type"] == "application/x-tar"
    return body


@pytest.mark.django_db
def test_a_parquet_export_archive_unpacks_to_a_folder_datasets_loads_by_subset_name(curator_api, tmp_path):
    subset = approved_subset_make(samples=5, name="Bar charts")
    export = export_build_now(subsets=[subset], format="parquet", filters={"decision": {"statuses": ["pending"]}})
    body = _archive(curator_api, export)
    with tarfile.open(fileobj=io.BytesIO(body)) as tar:
        names = tar.getnames()
        tar.extractall(tmp_path, filter="data")
    folder = f"finecurate-export-{export.pk}"
    assert f"{folder}/README.md" in names and f"{folder}/data/bar-charts/train-00000-of-00001.parquet" in names
    assert sorted(names) == sorted(f"{folder}/{f.name}" for f in export.files.all())

    dataset = load_dataset(str(tmp_path / folder), "bar-charts", split="train")
    assert len(dataset) == 5 and dataset[0]["texts"][0]["user"]


@pytest.mark.django_db
def test_every_file_of_a_llava_export_is_in_the_archive_with_its_bytes(curator_api):
    subset = approved_subset_make(samples=3, name="Llava")
    export = export_build_now(subsets=[subset], format="llava_jsonl", filters={"decision": {"statuses": ["pending"]}})
    with tarfile.open(fileobj=io.BytesIO(_archive(curator_api, export))) as tar:
        for export_file in export.files.all():
            member = tar.extractfile(f"finecurate-export-{export.pk}/{export_file.name}")
            assert member is not None and len(member.read()) == export_file.size


@pytest.mark.django_db
def test_an_unfinished_export_has_no_archive_and_a_reviewer_gets_none(curator_api, reviewer_api):
    subset = approved_subset_make(samples=1)
    export = export_build_now(subsets=[subset], format="parquet", filters={"decision": {"statuses": ["pending"]}})
    assert reviewer_api.get(f"/api/exports/{export.pk}/archive/").status_code == 403
    Export.objects.filter(pk=export.pk).update(state=Export.State.RUNNING)
    response = curator_api.get(f"/api/exports/{export.pk}/archive/")
    assert response.status_code == 409 and response.json()["error"]["code"] == "export_not_ready"
